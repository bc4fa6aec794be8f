"""A restricted unpickler for Tron's state: the file comes from elsewhere, and a pickle can
call anything it names. Only the few globals Tron's state uses are allowed, each mapped to a
safe value (pytz zones become zoneinfo/fixed-offset zones; pytz itself is not needed)."""

from __future__ import annotations

import codecs
import io
import pickle
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tron.errors import StoreError


def _latin1_encode(text: str, encoding: str = "latin1", errors: str = "strict") -> bytes:
    # Protocol 2 stores a datetime's bytes as `_codecs.encode(str, "latin1")`; no other codec.
    if encoding.replace("-", "").lower() not in ("latin1", "iso88591"):
        raise pickle.UnpicklingError(f"codec {encoding!r} is not allowed in Tron's state")
    return codecs.encode(text, "latin1", errors)


def _utc() -> tzinfo:
    return UTC


def _pytz_zone(zone: str, *_offsets: Any) -> tzinfo:
    """pytz's `_p(zone, utcoffset, dstoffset, tzname)`: the named zone, here as ZoneInfo."""
    if zone == "UTC":
        return UTC
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        if _offsets and isinstance(_offsets[0], int):
            return timezone(timedelta(seconds=_offsets[0]))
        raise pickle.UnpicklingError(f"unknown time zone {zone!r} in Tron's state") from None


ALLOWED: dict[tuple[str, str], Callable[..., Any]] = {
    ("datetime", "datetime"): datetime,
    ("datetime", "date"): date,
    ("datetime", "time"): time,
    ("datetime", "timedelta"): timedelta,
    ("datetime", "timezone"): timezone,
    ("__builtin__", "set"): set,
    ("builtins", "set"): set,
    ("__builtin__", "frozenset"): frozenset,
    ("builtins", "frozenset"): frozenset,
    ("_codecs", "encode"): _latin1_encode,
    ("pytz", "_UTC"): _utc,
    ("pytz", "utc"): _utc,
    ("pytz", "_p"): _pytz_zone,
}


class _Restricted(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"{module}.{name} is not allowed in Tron's state"
            ) from None


def loads(data: bytes) -> Any:
    """The value of one pickle of Tron's; StoreError if it names anything not allowed."""
    try:
        # latin1: what Python 2's str (old Tron) becomes, and what datetime's pickle expects.
        return _Restricted(io.BytesIO(data), encoding="latin1").load()
    except StoreError:
        raise
    except Exception as exc:  # a corrupt pickle raises nearly anything
        raise StoreError(f"cannot read a value of Tron's state: {exc}") from exc
