"""Records to JSON-able data and back: exact round trips, and tolerance of changed records."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tron.core.records import ActionRun, Attempt
from tron.errors import StoreError
from tron.store.codec import (
    decode_datetime,
    decode_record,
    decode_value,
    dumps,
    encode_datetime,
    encode_record,
    encode_value,
    loads,
)


class Colour(StrEnum):
    RED = "red"


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    name: str
    when: datetime | None = None
    pair: tuple[int, str] = (0, "")
    tags: frozenset[str] = frozenset()
    counts: dict[str, int] = field(default_factory=dict)
    colour: Colour | None = None
    number: int | str = 0
    extra: Any = None
    items: list[int] = field(default_factory=list)


@pytest.mark.parametrize(
    "value",
    [
        datetime(2024, 11, 3, 1, 30, tzinfo=ZoneInfo("America/New_York")),
        datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York")),
        datetime(2024, 1, 1, 12, 0, 0, 1, tzinfo=UTC),
        datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2024, 1, 1, 8, 0),
    ],
)
def test_datetime_round_trips_exactly(value: datetime) -> None:
    back = decode_datetime(encode_datetime(value))
    assert back == value
    assert back.utcoffset() == value.utcoffset()
    assert back.tzname() == value.tzname()


def test_named_zone_is_kept_by_name() -> None:
    value = datetime(2024, 7, 1, tzinfo=ZoneInfo("Europe/Paris"))
    assert encode_datetime(value) == "2024-07-01T00:00:00+02:00[Europe/Paris]"
    assert decode_datetime(encode_datetime(value)).tzinfo == ZoneInfo("Europe/Paris")


def test_timedelta_is_stored_as_whole_microseconds() -> None:
    value = timedelta(days=400_000, microseconds=1)
    assert decode_value(timedelta, encode_value(value)) == value


def test_date_round_trips_when_typed_and_reads_as_text_when_untyped() -> None:
    day = date(2024, 2, 29)
    assert decode_value(date, encode_value(day)) == day
    assert decode_value(Any, loads(dumps(encode_value({"DAY": day})))) == {"DAY": "2024-02-29"}


def test_record_round_trips_through_json() -> None:
    sample = Sample(
        name="ünï",
        when=datetime(2024, 1, 1, tzinfo=UTC),
        pair=(3, "x"),
        tags=frozenset({"a", "b"}),
        counts={"k": 1},
        colour=Colour.RED,
        number="seven",
        extra={"free": [1, "form"]},
        items=[1, 2],
    )
    text = dumps(encode_record(sample))
    assert "ünï" in text
    assert decode_record(Sample, loads(text)) == sample


def test_mapping_field_comes_back_read_only() -> None:
    run = ActionRun(
        job_name="n.j",
        run_num=0,
        action_name="a",
        raw_command="c",
        original_command="c",
        env=MappingProxyType({"A": "1"}),
    )
    back = decode_record(ActionRun, loads(dumps(encode_record(run))))
    assert isinstance(back.env, MappingProxyType)
    assert back == run


def test_unknown_keys_are_ignored_and_missing_ones_take_defaults() -> None:
    assert decode_record(Sample, {"name": "n", "gone": 1}) == Sample(name="n")


def test_exclude_leaves_fields_out() -> None:
    attempt = Attempt(number=1, command="c", node=None)
    assert "command" not in encode_record(attempt, exclude=frozenset({"command"}))


def test_overrides_replace_decoded_fields() -> None:
    assert decode_record(Sample, {"name": "n"}, name="m").name == "m"


def test_decode_raises_store_error_when_required_field_missing() -> None:
    with pytest.raises(StoreError, match="Attempt"):
        decode_record(Attempt, {"number": 1})


def test_encode_raises_store_error_for_unsupported_value() -> None:
    with pytest.raises(StoreError, match="complex"):
        encode_value(1j)


def test_dumps_raises_store_error_for_non_json_data() -> None:
    with pytest.raises(StoreError):
        dumps({"when": datetime(2024, 1, 1, tzinfo=UTC)})


def test_union_falls_back_to_later_member() -> None:
    assert decode_value(int | Colour, "red") is Colour.RED
    assert decode_value(Colour | int, 5) == 5


def test_dumps_is_compact_json() -> None:
    assert json.loads(dumps({"a": [1, None]})) == {"a": [1, None]}
    assert " " not in dumps({"a": [1, None]})


@dataclass(frozen=True, slots=True, kw_only=True)
class Nested:
    maybe: tuple[int | None, ...] = ()
    stamps: Mapping[str, datetime] = field(default_factory=lambda: MappingProxyType({}))
    spans: list[timedelta] = field(default_factory=list)
    days: set[date] = field(default_factory=set)
    inner: Sample | None = None
    colours: tuple[Colour, ...] = ()


@dataclass(frozen=True, slots=True)
class Single:
    only: int


@dataclass(frozen=True, slots=True)
class Empty:
    pass


def test_empty_defaults_are_left_out_and_come_back() -> None:
    run = ActionRun(job_name="n.j", run_num=0, action_name="a", raw_command="c",
                    original_command="c")  # fmt: skip
    data = encode_record(run)
    assert set(data) == {"job_name", "run_num", "action_name", "state", "raw_command",
                         "original_command"}  # fmt: skip
    assert decode_record(ActionRun, loads(dumps(data))) == run


def test_values_away_from_their_empty_default_are_kept() -> None:
    data = encode_record(Nested(maybe=(1, None), spans=[timedelta(seconds=1)]))
    # Only None, False, () and empty mappings count as empty defaults.
    assert data == {"maybe": [1, None], "spans": [1_000_000], "days": []}


def test_nested_containers_round_trip() -> None:
    value = Nested(
        maybe=(None, 2),
        stamps=MappingProxyType({"x": datetime(2024, 1, 1, tzinfo=ZoneInfo("Asia/Tokyo"))}),
        spans=[timedelta(days=2)],
        days={date(2024, 1, 1)},
        inner=Sample(name="s", colour=Colour.RED),
        colours=(Colour.RED,),
    )
    assert decode_record(Nested, loads(dumps(encode_record(value)))) == value


def test_records_of_one_field_or_none_round_trip() -> None:
    assert decode_record(Single, loads(dumps(encode_record(Single(7))))) == Single(7)
    assert encode_record(Empty()) == {}
    assert decode_record(Empty, {}) == Empty()


def test_stored_scalar_of_the_wrong_type_raises_store_error() -> None:
    with pytest.raises(StoreError, match="is not a int"):
        decode_record(Single, {"only": "seven"})


def test_null_decodes_to_none_whatever_the_type() -> None:
    assert decode_value(datetime, None) is None
    assert decode_value(Any, [1]) == [1]


def test_decoded_strings_are_shared_between_records() -> None:
    # A long history repeats names and commands in every run: one copy of each in memory.
    first, second = (
        decode_record(Sample, loads(f'{{"name": "{"job_" + "x" * 40}"}}')) for _ in range(2)
    )
    assert first.name == second.name
    assert first.name is second.name


def test_loads_reads_compact_and_spaced_json_and_names_damage() -> None:
    assert loads('{"a":[1,"é"]}') == {"a": [1, "é"]}
    assert loads(' {"a": 1}\n') == {"a": 1}
    with pytest.raises(json.JSONDecodeError, match="Extra data"):
        loads('{"a":1}x')
    with pytest.raises(json.JSONDecodeError):
        loads('{"a":')


def test_stored_enum_value_unknown_raises() -> None:
    assert decode_value(Colour, "red") is Colour.RED
    with pytest.raises(ValueError, match="'blue' is not a valid Colour"):
        decode_value(Colour, "blue")


def test_decoded_records_share_empty_read_only_mappings_and_equal_times() -> None:
    stored = {"job_name": "j", "run_num": 1, "action_name": "a", "raw_command": "c",
              "original_command": "c", "start_time": "2026-03-01T12:00:00+00:00",
              "attempts": [{"number": 1, "command": "c", "node": None,
                            "start_time": "2026-03-01T12:00:00+00:00"}]}  # fmt: skip
    first, second = decode_record(ActionRun, stored), decode_record(ActionRun, stored)
    assert first.env == {}
    assert first.env is second.env
    assert first.start_time is first.attempts[0].start_time is second.start_time
    # A mutable mapping is never shared: each record gets its own.
    one, two = (decode_record(Sample, {"name": "x"}) for _ in range(2))
    assert one.counts == {}
    assert one.counts is not two.counts
