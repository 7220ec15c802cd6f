"""Money: a finite, non-negative Decimal amount with at most two decimal places, bounded so that
every read model's numeric column holds it, and an ISO 4217 currency code."""

from __future__ import annotations

from decimal import Decimal

from domain.errors import ValidationError
from domain.limits import MAX_AMOUNT, MONEY_PLACES


def check_amount(field: str, amount: object) -> Decimal:
    """Refuse anything but a finite decimal in [0, MAX_AMOUNT] with at most MONEY_PLACES
    decimal places; NaN, sNaN and the infinities name the field like any other bad amount."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValidationError(f"{field} must be a finite decimal amount")
    if amount < 0:
        raise ValidationError(f"{field} must not be negative")
    if amount > MAX_AMOUNT:
        raise ValidationError(f"{field} must be at most {MAX_AMOUNT}")
    if _places(amount) > MONEY_PLACES:
        raise ValidationError(f"{field} has more than {MONEY_PLACES} decimal places")
    return amount


def _places(amount: Decimal) -> int:
    # Exact, without the rounding of Decimal.normalize(): 12.500 has two places, 12.505 three.
    _, digits, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # noqa: S101 - finite amounts have an integer exponent
    places = -exponent
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(places - trailing, 0)


def check_currency(field: str, code: object) -> str:
    """Three ASCII capital letters, such as EUR (whether the code is assigned is not checked)."""
    if not (isinstance(code, str) and len(code) == 3 and code.isascii()):
        raise ValidationError(f"{field} must be an ISO 4217 code such as EUR")
    if not (code.isalpha() and code.isupper()):
        raise ValidationError(f"{field} must be an ISO 4217 code such as EUR")
    return code
