"""IANA time zone names, checked before the zone database is opened with them."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import ValidationError
from domain.limits import MAX_ZONE_NAME

# Zone keys are relative paths of letters, digits, "_", "+" and "-" ("America/New_York",
# "Etc/GMT+5"): no empty, absolute, ".." or hidden path can reach the file system.
_ZONE_KEY = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*")


def zone_info(name: object, field: str = "time_zone") -> ZoneInfo:
    """The zone named `name`, or a ValidationError naming `field`."""
    if not isinstance(name, str) or len(name) > MAX_ZONE_NAME or not _ZONE_KEY.fullmatch(name):
        raise ValidationError(f"{field} is not an IANA time zone name")
    try:
        return ZoneInfo(name)
    # Besides "not found", zoneinfo raises ValueError for a file that is no zone ("tzdata.zi")
    # and OSError for a folder of the database ("America").
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError(f"{field} {name!r} is not a known IANA time zone") from None


def check_zone(name: object, field: str = "time_zone") -> str:
    zone_info(name, field)
    return str(name)
