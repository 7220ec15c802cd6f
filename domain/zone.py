"""IANA time zone names: only a zone the zone database lists is accepted, so no key can open a
folder ("America"), a path ("../x", "/etc/x") or a data file ("tzdata.zi") of the database."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from domain.errors import ValidationError
from domain.limits import MAX_ZONE_NAME


@cache
def known_zones() -> frozenset[str]:
    # "localtime" is the machine's own setting, not a zone: it differs from host to host.
    return frozenset(available_timezones() - {"localtime"})


def zone_info(name: object, field: str = "time_zone") -> ZoneInfo:
    """The zone named `name`, or a ValidationError naming `field`."""
    if not isinstance(name, str) or len(name) > MAX_ZONE_NAME:
        raise ValidationError(f"{field} is not an IANA time zone name")
    if name not in known_zones():
        raise ValidationError(f"{field} {name!r} is not a known IANA time zone")
    return ZoneInfo(name)


def check_zone(name: object, field: str = "time_zone") -> str:
    zone_info(name, field)
    return str(name)
