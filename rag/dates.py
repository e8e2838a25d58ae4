"""Partial dates (``2004``, ``2020-01``, ``2020-01-03``) as comparable day ranges."""

from __future__ import annotations

import calendar
import re

from rag.errors import InvalidFilterError, echo

_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")


def date_range(value: str) -> tuple[int, int]:
    """First and last day covered by a partial ISO date, as ``YYYYMMDD`` integers.

    >>> date_range("2004")
    (20040101, 20041231)
    >>> date_range("2020-02")
    (20200201, 20200229)
    """
    match = _DATE.match(value.strip())
    if not match:
        raise InvalidFilterError(
            f"Not a date: {echo(value)}", hint="use YYYY, YYYY-MM or YYYY-MM-DD"
        )
    year = int(match[1])
    month = int(match[2]) if match[2] else None
    day = int(match[3]) if match[3] else None
    if month is not None and not 1 <= month <= 12:
        raise InvalidFilterError(f"Not a date: {echo(value)}", hint="month must be 01-12")
    if month is None:
        return year * 10000 + 101, year * 10000 + 1231
    last = calendar.monthrange(year, month)[1]
    if day is None:
        return year * 10000 + month * 100 + 1, year * 10000 + month * 100 + last
    if not 1 <= day <= last:
        raise InvalidFilterError(f"Not a date: {echo(value)}", hint="day out of range")
    key = year * 10000 + month * 100 + day
    return key, key


def is_valid_date(value: str) -> bool:
    try:
        date_range(value)
    except InvalidFilterError:
        return False
    return True


def overlaps(statement_date: str | None, since: str | None, until: str | None) -> bool:
    """Whether a statement dated ``statement_date`` can fall within [since, until].

    A partial date overlaps when any day it covers is inside the range; an undated
    statement never matches a date filter.
    """
    if since is None and until is None:
        return True
    if not statement_date or not is_valid_date(statement_date):
        return False
    lo, hi = date_range(statement_date)
    if since is not None and hi < date_range(since)[0]:
        return False
    return not (until is not None and lo > date_range(until)[1])
