"""The one exception type that spec validation raises."""
from __future__ import annotations

import difflib
import math


class SpecError(ValueError):
    """A spec that cannot be used.

    ``str(error)`` reads as a sentence for the learner, starting with the
    place (``layer 3 (conv2d): kernel 9 is larger than its 8×8 input``);
    ``path`` locates the field for a program (``layers.2.kernel``).
    """

    def __init__(self, message: str, path: str = ""):
        super().__init__(message)
        self.message = message
        self.path = path


class Place:
    """Where in the spec a value sits, for error messages."""

    def __init__(self, label: str, path: str):
        self.label = label
        self.path = path

    def error(self, message: str, field: str | None = None) -> SpecError:
        path = f"{self.path}.{field}" if field and self.path else (field or self.path)
        return SpecError(f"{self.label}: {message}" if self.label else message, path)

    # --- typed field checks: each returns the value or raises --------------

    def whole(self, field: str, value, low: int, high: int, *, even: bool = False) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"{field} must be a whole number from {low:,} to {high:,}, "
                             f"got {describe(value)}", field)
        if not low <= value <= high:
            raise self.error(f"{field} must be from {low:,} to {high:,}, got {describe(value)}", field)
        if even and value % 2:
            raise self.error(f"{field} must be even, got {value}", field)
        return value

    def number(self, field: str, value, low: float, high: float, *,
               low_open: bool = False, high_open: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"{field} must be a number, got {describe(value)}", field)
        if isinstance(value, float) and not math.isfinite(value):
            raise self.error(f"{field} must be a finite number, got {value}", field)
        too_low = value <= low if low_open else value < low
        too_high = value >= high if high_open else value > high
        if too_low or too_high:
            lo = f"above {low:g}" if low_open else f"at least {low:g}"
            hi = f"below {high:g}" if high_open else f"at most {high:g}"
            raise self.error(f"{field} must be {lo} and {hi}, got {describe(value)}", field)
        return float(value)

    def choice(self, field: str, value, choices) -> str:
        if not isinstance(value, str):
            raise self.error(f"{field} must be one of {list_words(choices)}, got {describe(value)}", field)
        if value not in choices:
            raise self.error(f"unknown {field} {value!r}{suggest(value, choices)}; "
                             f"choose one of {list_words(choices)}", field)
        return value

    def flag(self, field: str, value) -> bool:
        if not isinstance(value, bool):
            raise self.error(f"{field} must be true or false, got {describe(value)}", field)
        return value


def describe(value) -> str:
    """A short, safe rendering of any JSON value for a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 30 else value[:27] + "..."
        return repr(text)
    if isinstance(value, int) and abs(value) >= 10**15:
        return "a number with more than 15 digits"
    if isinstance(value, (int, float)):
        text = f"{value:,}" if isinstance(value, int) else repr(value)
        return text if len(text) <= 30 else text[:27] + "..."
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def suggest(word, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def list_words(choices) -> str:
    return ", ".join(str(c) for c in choices)
