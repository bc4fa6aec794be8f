"""Records to JSON-able dicts and back, driven by the records' own field types.

Each record class is compiled once into one encoder and one decoder per field, chosen from the
field's annotation, so a field added to a record is stored with no change here. Decoding
tolerates change: a key missing from stored data (a field added since, or one left out because
it held its empty default) takes the field's default, and a key no longer in the record is
ignored.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import operator
import sys
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from tron.errors import StoreError

T = TypeVar("T")
Convert = Callable[[Any], Any]

_ONE_MICROSECOND = timedelta(microseconds=1)
_SCALARS = (str, int, float, bool)
_EMPTY_MAPPING = object()  # marks a field whose default is an empty mapping
_NO_EMPTY = object()  # marks a field without an empty default
_MAPPINGS = (dict, types.MappingProxyType)  # concrete: checking against the ABC is slow


def encode_datetime(value: datetime) -> str:
    """ISO 8601, plus `[Zone/Name]` when the zone is a named one, so it comes back exactly."""
    text = value.isoformat()
    if isinstance(value.tzinfo, ZoneInfo) and value.tzinfo.key:
        return f"{text}[{value.tzinfo.key}]"
    return text


@functools.lru_cache(maxsize=1024)
def decode_datetime(text: str) -> datetime:
    """The datetime of `encode_datetime`'s text; the same text gives the same object (a run's
    times recur in its action runs and their attempts, and datetimes are immutable)."""
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
    """Every field of a dataclass record (except `exclude`) as JSON-able data.

    A field still at an empty default (None, False, (), an empty mapping) is left out:
    decoding gives it that default back, and records stay small.
    """
    codec = _codec(type(record))
    data: dict[str, Any] = {}
    for field, value in zip(codec.fields, codec.values(record), strict=True):
        if value is field.empty or field.name in exclude:
            continue
        if value is None:
            data[field.name] = None
        elif field.empty is _EMPTY_MAPPING and not value and isinstance(value, _MAPPINGS):
            continue
        else:
            data[field.name] = field.encode(value)
    return data


def decode_record(cls: type[T], data: Mapping[str, Any], **overrides: Any) -> T:
    """Rebuild a `cls` record from `encode_record` output; `overrides` set fields directly."""
    codec = _codec(cls)
    decoders = codec.decoders
    kwargs = {}
    for name, raw in data.items():
        decode = decoders.get(name)
        if decode is not None:
            kwargs[name] = raw if raw is None else decode(raw)
    for name in codec.shared_empty:
        if name not in kwargs:
            kwargs[name] = _SHARED_EMPTY
    kwargs.update(overrides)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise StoreError(f"stored {cls.__name__} does not match the record: {exc}") from exc


def decode_value(hint: Any, raw: Any) -> Any:
    """Turn JSON-able `raw` back into a value of the annotated type `hint`."""
    if raw is None:
        return None
    return _decoder(hint)(raw)


_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(data: Any) -> str:
    """Compact JSON text; non-ASCII kept as is (SQLite stores UTF-8)."""
    try:
        return _JSON.encode(data)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"cannot store as JSON: {exc}") from exc


# The C scanner under json.loads, called directly: loads skips json.loads' two whitespace
# regexes, a third of its time on small records (and start-up decodes every stored run).
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def loads(text: str) -> Any:
    try:
        data, end = _SCAN(text, 0)
    except StopIteration:
        end = -1
    if end != len(text):
        return json.loads(text)  # surrounding blanks, or damage: json.loads says what it is
    return data


# Compiled field codecs -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _Field:
    name: str
    empty: Any  # the default when it is empty (left out of stored data), else _NO_EMPTY
    encode: Convert  # called with a value that is not None
    decode: Convert  # called with raw data that is not None


@dataclasses.dataclass(frozen=True, slots=True)
class _Codec:
    fields: tuple[_Field, ...]
    values: Callable[[Any], tuple[Any, ...]]  # every field's value, in one call
    decoders: dict[str, Convert]
    # Fields whose default is an empty read-only mapping: a record stored without them gets
    # one shared empty mapping, not a new one each (thousands of runs have no env, say).
    shared_empty: tuple[str, ...] = ()


_CODECS: dict[type[Any], _Codec] = {}


def _codec(cls: type[Any]) -> _Codec:
    codec = _CODECS.get(cls)
    if codec is None:
        codec = _CODECS[cls] = _compile(cls)
    return codec


def _compile(cls: type[Any]) -> _Codec:
    """One encoder and decoder per field; resolving annotations is slow, so it is done once."""
    hints = typing.get_type_hints(cls)
    fields = tuple(
        _Field(
            name=f.name,
            empty=_empty_default(f),
            encode=_encoder(hints[f.name]),
            decode=_decoder(hints[f.name]),
        )
        for f in dataclasses.fields(cls)
    )
    names = [field.name for field in fields]
    values = operator.attrgetter(*names) if len(names) > 1 else _one_value(names)
    shared = tuple(f.name for f in dataclasses.fields(cls) if _is_read_only_mapping(f))
    return _Codec(
        fields=fields,
        values=values,
        decoders={f.name: f.decode for f in fields},
        shared_empty=shared,
    )


_SHARED_EMPTY: types.MappingProxyType[Any, Any] = types.MappingProxyType({})


def _is_read_only_mapping(field: dataclasses.Field[Any]) -> bool:
    factory = field.default_factory
    if factory is dataclasses.MISSING:
        return False
    made = factory()
    return isinstance(made, types.MappingProxyType) and not made


def _one_value(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """The `values` of a record with at most one field (attrgetter returns no tuple then)."""
    return lambda record: tuple(getattr(record, name) for name in names)


def _empty_default(field: dataclasses.Field[Any]) -> Any:
    default = field.default
    if default is None or default is False or default == ():
        return default
    factory = field.default_factory
    if factory is not dataclasses.MISSING:
        made = factory()
        if isinstance(made, Mapping) and not made:
            return _EMPTY_MAPPING
    return _NO_EMPTY


def _same(value: Any) -> Any:
    return value


def _or_none(convert: Convert) -> Convert:
    if convert is _same:
        return convert
    return lambda value: None if value is None else convert(value)


def _members(hint: Any) -> tuple[Any, ...] | None:
    """The members of a union other than None (None when `hint` is not a union)."""
    if typing.get_origin(hint) not in (types.UnionType, typing.Union):
        return None
    return tuple(arg for arg in typing.get_args(hint) if arg is not type(None))


def _encoder(hint: Any) -> Convert:
    members = _members(hint)
    if members is not None:
        return _encoder(members[0]) if len(members) == 1 else encode_value
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (tuple, list, frozenset, set) and _is_homogeneous(origin, args):
        return _list_encoder(_or_none(_encoder(args[0])))
    if origin in (Mapping, typing.Mapping, dict) and args:
        return _mapping_encoder(_or_none(_encoder(args[1])))
    return _plain_encoder(hint)


def _plain_encoder(hint: Any) -> Convert:
    if hint in _SCALARS:
        return _same
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum_value
    if hint is datetime:
        return encode_datetime
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return encode_record
    # date, timedelta, Any and the rest: decided by the value.
    return encode_value


def _is_homogeneous(origin: Any, args: tuple[Any, ...]) -> bool:
    if origin is tuple:
        return len(args) == 2 and args[1] is Ellipsis
    return len(args) == 1


def _list_encoder(item: Convert) -> Convert:
    if item is _same:
        return list
    return lambda value: [item(v) for v in value]


def _mapping_encoder(item: Convert) -> Convert:
    return lambda value: {str(k): item(v) for k, v in value.items()}


def _enum_value(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


@functools.lru_cache(maxsize=256)
def _decoder(hint: Any) -> Convert:
    if hint is Any:
        return _same
    members = _members(hint)
    if members is not None:
        if len(members) == 1:
            return _decoder(members[0])
        return functools.partial(_decode_union, members)
    origin = typing.get_origin(hint)
    if origin is None:
        return _plain_decoder(hint)
    return _generic_decoder(origin, typing.get_args(hint))


def _plain_decoder(hint: Any) -> Convert:
    if hint is datetime:
        return decode_datetime
    if hint is date:
        return date.fromisoformat
    if hint is timedelta:
        return _timedelta
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return functools.partial(decode_record, hint)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum_decoder(hint)
    if hint is str:
        return _string
    if hint in _SCALARS:
        return _scalar_decoder(hint)
    return _same


def _enum_decoder(hint: type[Enum]) -> Convert:
    """A member by its value: a dict look-up first (calling the enum class is slower)."""
    members = dict(hint._value2member_map_)

    def decode(raw: Any) -> Enum:
        member = members.get(raw)
        return member if member is not None else hint(raw)  # (a falsy member is one too)

    return decode


def _scalar_decoder(hint: type[Any]) -> Convert:
    def checked(raw: Any) -> Any:
        if isinstance(raw, hint):
            return raw
        raise StoreError(f"stored {raw!r} is not a {hint.__name__}")

    return checked


def _string(raw: Any) -> str:
    """A stored string, interned: a long history repeats the same job and action names,
    nodes and commands in every run, and one copy of each keeps memory small."""
    if type(raw) is str:
        return sys.intern(raw)
    raise StoreError(f"stored {raw!r} is not a str")


def _timedelta(raw: Any) -> timedelta:
    return timedelta(microseconds=raw)


def _decode_union(members: tuple[Any, ...], raw: Any) -> Any:
    for candidate in members[:-1]:
        try:
            return decode_value(candidate, raw)
        except (TypeError, ValueError, KeyError, StoreError):
            continue
    return decode_value(members[-1], raw)


def _generic_decoder(origin: Any, args: tuple[Any, ...]) -> Convert:
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _or_none(_decoder(args[0]))
            return lambda raw: tuple(map(item, raw))
        items = tuple(_or_none(_decoder(arg)) for arg in args)
        return lambda raw: tuple(f(v) for f, v in zip(items, raw, strict=True))
    if origin in (Mapping, typing.Mapping, dict):
        key, value = (_or_none(_decoder(arg)) for arg in args or (Any, Any))
        wrap = dict if origin is dict else types.MappingProxyType
        return lambda raw: wrap({key(k): value(v) for k, v in raw.items()})
    if origin in (frozenset, list, set):
        item = _or_none(_decoder(args[0] if args else Any))
        return lambda raw: origin(map(item, raw))
    return _same
