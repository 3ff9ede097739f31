"""Query parameters: one parser for every integer and text parameter of the API.

A bad value is a ``ValidationError`` naming the parameter (a 400 in the envelope), never a
500 further down: ``str.isdigit()`` accepts "²" and "٣" that ``int()`` then refuses, SQLite
overflows past 64 bits, and PostgreSQL refuses a NUL byte in any text it is asked to compare.
"""
import re
from datetime import datetime, timezone

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date, parse_datetime

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


def choice_param(params, name: str, choices, *, default=None):
    """One of ``choices``; absent is ``default``, anything else (empty included) a 400."""
    raw = params.get(name)
    if raw is None:
        return default
    if raw not in choices:
        raise ValidationError({name: [f"Must be one of {', '.join(choices)}."]})
    return raw


def bool_param(params, name: str):
    """``true`` or ``false`` (any case) as a bool; absent is None, anything else (empty included) a 400."""
    raw = params.get(name)
    if raw is None:
        return None
    flag = raw.lower()
    if flag not in ("true", "false"):
        raise ValidationError({name: ["Must be true or false."]})
    return flag == "true"


def moment_param(params, name: str):
    """An ISO 8601 date (its midnight) or date-time, in UTC when it names no offset; absent is None."""
    raw = params.get(name)
    if raw is None:
        return None
    try:
        moment = parse_datetime(raw)
        if moment is None and (day := parse_date(raw)) is not None:
            moment = datetime(day.year, day.month, day.day)
    except ValueError:
        moment = None
    if moment is None:
        raise ValidationError({name: ["Must be an ISO 8601 date or date-time."]})
    try:
        # In UTC: PostgreSQL refuses offsets past 15:59 that Python accepts (up to 23:59).
        return moment.replace(tzinfo=timezone.utc) if not moment.tzinfo else moment.astimezone(timezone.utc)
    except OverflowError:  # 9999-12-31T23:00-05:00 is past the last representable moment
        raise ValidationError({name: ["Must be an ISO 8601 date or date-time."]}) from None


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

