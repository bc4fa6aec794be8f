"""Records to JSON-able dicts and back, driven by the records' own field types.

Encoding walks `dataclasses.fields`, so a field added to a record is stored with no change
here. Decoding reads each field's annotation: a key missing from stored data (a field added
since) takes the field's default, and a key no longer in the record is ignored.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from tron.errors import StoreError

T = TypeVar("T")

_ONE_MICROSECOND = timedelta(microseconds=1)
_SCALARS = (str, int, float, bool)


def encode_datetime(value: datetime) -> str:
    """ISO 8601, plus `[Zone/Name]` when the zone is a named one, so it comes back exactly."""
    text = value.isoformat()
    if isinstance(value.tzinfo, ZoneInfo) and value.tzinfo.key:
        return f"{text}[{value.tzinfo.key}]"
    return text


def decode_datetime(text: str) -> datetime:
    if not text.endswith("]"):
        return datetime.fromisoformat(text)
    stamp, _, zone = text[:-1].partition("[")
    return datetime.fromisoformat(stamp).astimezone(ZoneInfo(zone))


def encode_value(value: Any) -> Any:
    """A value of a record field as JSON-able data (recursing into records and containers)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, datetime):
        return encode_datetime(value)
    if isinstance(value, date):
        # YAML gives dates for unquoted `2024-01-01` (in a command_context, say).
        return value.isoformat()
    if isinstance(value, timedelta):
        # Whole microseconds: a float of seconds would round long durations.
        return value // _ONE_MICROSECOND
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return encode_record(value)
    if isinstance(value, Mapping):
        return {str(k): encode_value(v) for k, v in value.items()}
    if isinstance(value, tuple | list | frozenset | set):
        return [encode_value(v) for v in value]
    raise StoreError(f"cannot store a value of type {type(value).__name__}")


def encode_record(record: Any, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every field of a dataclass record (except `exclude`) as JSON-able data."""
    return {
        f.name: encode_value(getattr(record, f.name))
        for f in dataclasses.fields(record)
        if f.name not in exclude
    }


def decode_record(cls: type[T], data: Mapping[str, Any], **overrides: Any) -> T:
    """Rebuild a `cls` record from `encode_record` output; `overrides` set fields directly."""
    hints = _field_types(cls)
    kwargs = {name: decode_value(hints[name], raw) for name, raw in data.items() if name in hints}
    kwargs.update(overrides)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise StoreError(f"stored {cls.__name__} does not match the record: {exc}") from exc


def decode_value(hint: Any, raw: Any) -> Any:
    """Turn JSON-able `raw` back into a value of the annotated type `hint`."""
    if raw is None or hint is Any:
        return raw
    origin = typing.get_origin(hint)
    if origin is None:
        return _decode_plain(hint, raw)
    if origin in (types.UnionType, typing.Union):
        return _decode_union(typing.get_args(hint), raw)
    return _decode_generic(origin, typing.get_args(hint), raw)


def _decode_plain(hint: Any, raw: Any) -> Any:
    if hint is datetime:
        return decode_datetime(raw)
    if hint is date:
        return date.fromisoformat(raw)
    if hint is timedelta:
        return timedelta(microseconds=raw)
    if dataclasses.is_dataclass(hint):
        return decode_record(hint, raw)  # type: ignore[arg-type]
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(raw)
    if hint in _SCALARS and not isinstance(raw, hint):
        raise StoreError(f"stored {raw!r} is not a {hint.__name__}")
    return raw


def _decode_union(args: tuple[Any, ...], raw: Any) -> Any:
    candidates = [a for a in args if a is not type(None)]
    for candidate in candidates[:-1]:
        try:
            return decode_value(candidate, raw)
        except (TypeError, ValueError, KeyError, StoreError):
            continue
    return decode_value(candidates[-1], raw)


def _decode_generic(origin: Any, args: tuple[Any, ...], raw: Any) -> Any:
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode_value(args[0], v) for v in raw)
        return tuple(decode_value(a, v) for a, v in zip(args, raw, strict=True))
    if origin in (Mapping, typing.Mapping, dict):
        key_type, value_type = args or (Any, Any)
        decoded = {decode_value(key_type, k): decode_value(value_type, v) for k, v in raw.items()}
        return decoded if origin is dict else types.MappingProxyType(decoded)
    if origin in (frozenset, list, set):
        return origin(decode_value(args[0] if args else Any, v) for v in raw)
    return raw


_FIELD_TYPES: dict[type[Any], dict[str, Any]] = {}


def _field_types(cls: type[Any]) -> dict[str, Any]:
    """Each field's resolved annotation (resolving is slow, so it is done once per class)."""
    if cls not in _FIELD_TYPES:
        hints = typing.get_type_hints(cls)
        _FIELD_TYPES[cls] = {f.name: hints[f.name] for f in dataclasses.fields(cls)}
    return _FIELD_TYPES[cls]


def dumps(data: Any) -> str:
    """Compact JSON text; non-ASCII kept as is (SQLite stores UTF-8)."""
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise StoreError(f"cannot store as JSON: {exc}") from exc


def loads(text: str) -> Any:
    return json.loads(text)
