"""Strict request bodies: msgspec decodes the raw JSON straight into the schema, so a string
is never coerced into a number and unknown fields are refused (Litestar's default is lax)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec
from litestar.dto import MsgspecDTO
from litestar.exceptions import ValidationException

from domain.limits import MAX_DEPTH

T = TypeVar("T", bound=msgspec.Struct)


class StrictBody(MsgspecDTO[T], Generic[T]):
    def decode_bytes(self, value: bytes) -> Any:
        try:
            return msgspec.json.decode(value or b"null", type=self.model_type, strict=True)
        except msgspec.ValidationError as error:
            raise ValidationException(detail=str(error)) from None
        except msgspec.DecodeError as error:
            raise ValidationException(detail=f"the body is not valid JSON: {error}") from None
        except RecursionError:
            # A small body can nest thousands of levels deep; the domain allows far fewer.
            msg = f"the body nests too deeply (free-form fields such as vitals: {MAX_DEPTH} levels)"
            raise ValidationException(detail=msg) from None
