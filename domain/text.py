"""What text the domain accepts, decided once for every command's free text.

Every read model must be able to store what the write side accepts: PostgreSQL `text` and
`jsonb` hold no NUL, JSON holds no unpaired surrogate, and search engines and terminals
misbehave on control characters. So free text may not contain:

* a control character (Unicode category Cc: U+0000-U+001F, U+007F-U+009F), except that a field
  meant to hold prose (`MULTILINE` text: notes, bio, reasons, an address) may contain the
  line feed, carriage return and tab;
* the line and paragraph separators U+2028 and U+2029, except in multi-line text;
* a surrogate code point (U+D800-U+DFFF), which is never a character on its own;
* a noncharacter (U+FDD0-U+FDEF and the last two code points of every plane, U+FFFE, U+FFFF,
  U+1FFFE, ...), reserved for a program's internal use and never meant to be interchanged;
* a bidirectional embedding, override or isolate (U+202A-U+202E, U+2066-U+2069): these
  reorder what a reader sees ("Trojan Source") and nothing in a name, reason or note needs
  them. Other format characters (Cf) stay allowed: the zero-width joiner and non-joiner are
  part of emoji sequences and of Persian and Indic writing, and the left-to-right and
  right-to-left marks (U+200E, U+200F) only nudge neutral characters.
"""

from __future__ import annotations

import re
from enum import Enum

from domain.errors import ValidationError


class Lines(Enum):
    SINGLE = "single"
    MULTILINE = "multiline"


_LINE_BREAKS = "\t\n\r\u2028\u2029"
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_ALWAYS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + "\ud800-\udfff" + _NONCHARACTERS + _BIDI_CONTROLS
_REFUSED = {
    Lines.SINGLE: re.compile(f"[{_ALWAYS}{_LINE_BREAKS}]"),
    Lines.MULTILINE: re.compile(f"[{_ALWAYS}]"),
}


def _kind(char: str) -> str:
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        return "an unpaired surrogate"
    if 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE:
        return "a noncharacter"
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        return "a bidirectional control character"
    if char in "\u2028\u2029":
        return "a line break"
    return "a control character"


def check_text(field: str, value: str, lines: Lines = Lines.SINGLE) -> None:
    """Refuse text that breaks the rule above, naming the field and the code point."""
    found = _REFUSED[lines].search(value)
    if found is not None:
        char = found.group()
        msg = f"{field} contains {_kind(char)} (U+{ord(char):04X})"
        raise ValidationError(msg)
