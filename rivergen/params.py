"""Query parameters: one parser for every integer and text parameter of the API.

A bad value is a ``ValidationError`` naming the parameter (a 400 in the envelope), never a
500 further down: ``str.isdigit()`` accepts "²" and "٣" that ``int()`` then refuses, SQLite
overflows past 64 bits, and PostgreSQL refuses a NUL byte in any text it is asked to compare.
"""
import re

from django.core.exceptions import ValidationError

MAX_INT64 = 2**63 - 1
_DIGITS = re.compile(r"[0-9]+", re.ASCII)


def parse_int(raw, name: str, *, minimum: int = 1, maximum: int = MAX_INT64) -> int:
    """``raw`` (a string of ASCII digits) as an int within [minimum, maximum]."""
    if not isinstance(raw, str) or not _DIGITS.fullmatch(raw.strip()) or len(raw.strip()) > 19:
        raise ValidationError({name: ["Must be a positive integer." if minimum >= 1 else "Must be an integer."]})
    value = int(raw.strip())
    if value < minimum:
        raise ValidationError({name: [f"Must be at least {minimum}."]})
    if value > maximum:
        raise ValidationError({name: [f"Must be at most {maximum}."]})
    return value


def check_text(raw, name: str) -> str:
    """``raw`` unchanged, unless it holds a NUL byte (which no database column can be compared with)."""
    if isinstance(raw, str) and "\x00" in raw:
        raise ValidationError({name: ["Must not contain NUL characters."]})
    return raw


def int_param(params, name: str, *, default=None, minimum: int = 1, maximum: int = MAX_INT64):
    """The integer query parameter ``name``; absent is ``default``, present but empty is a 400."""
    raw = params.get(name)
    if raw is None:
        return default
    return parse_int(raw, name, minimum=minimum, maximum=maximum)


def text_param(params, name: str, default: str = "") -> str:
    raw = params.get(name)
    return default if raw is None else check_text(raw, name)


def check_all_text(params) -> None:
    """Refuse a NUL byte in any value (and name) of ``params``, a QueryDict."""
    for name, values in params.lists():
        check_text(name, "query")
        for value in values:
            check_text(value, name)


def page_params(params, *, default_size: int, max_size: int, clamp: bool) -> tuple[int, int]:
    """(page, page_size): both positive integers; a page_size over ``max_size`` is capped to it
    when ``clamp``, a 400 otherwise."""
    page = int_param(params, "page", default=1)
    page_size = int_param(params, "page_size", default=default_size)
    if page_size > max_size:
        if not clamp:
            raise ValidationError({"page_size": [f"Must be at most {max_size}."]})
        page_size = max_size
    return page, page_size

