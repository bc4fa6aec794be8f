"""Identifier resolution (spec 7.1): as given, under MASTER, under each namespace."""

from __future__ import annotations

import pytest

from tron.cli.client import api_path
from tron.cli.resolve import IdKind, TronId, UnknownIdentifierError, resolve

JOBS = {"MASTER.backup", "billing.etl", "billing.backup", "demo.uni_ünïcode_job"}
NAMESPACES = ["MASTER", "billing", "demo"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("billing.etl", TronId(kind=IdKind.JOB, job="billing.etl")),
        ("etl", TronId(kind=IdKind.JOB, job="billing.etl")),
        ("backup", TronId(kind=IdKind.JOB, job="MASTER.backup")),
        ("billing.backup.3", TronId(kind=IdKind.JOB_RUN, job="billing.backup", run="3")),
        ("etl.HEAD", TronId(kind=IdKind.JOB_RUN, job="billing.etl", run="HEAD")),
        ("etl.-1.load", TronId(kind=IdKind.ACTION_RUN, job="billing.etl", run="-1", action="load")),
        (
            "uni_ünïcode_job.1.grüß",
            TronId(kind=IdKind.ACTION_RUN, job="demo.uni_ünïcode_job", run="1", action="grüß"),
        ),
    ],
)
def test_resolve(name: str, expected: TronId) -> None:
    assert resolve(name, JOBS, NAMESPACES) == expected


@pytest.mark.parametrize("name", ["nope", "billing.nope", "etl.1.load.extra", "etl..load", ""])
def test_unknown(name: str) -> None:
    with pytest.raises(UnknownIdentifierError):
        resolve(name, JOBS, NAMESPACES)


def test_one_suggestion() -> None:
    with pytest.raises(UnknownIdentifierError) as info:
        resolve("billing.elt", JOBS, NAMESPACES)
    assert str(info.value) == "Unknown job identifier: billing.elt\nDid you mean: billing.etl?"


def test_several_suggestions() -> None:
    with pytest.raises(UnknownIdentifierError) as info:
        resolve("backpu", JOBS, NAMESPACES)
    assert str(info.value).endswith("Did you mean one of: MASTER.backup, billing.backup?")


def test_no_suggestion_for_unrelated_name() -> None:
    with pytest.raises(UnknownIdentifierError) as info:
        resolve("zzz", JOBS, NAMESPACES)
    assert str(info.value) == "Unknown job identifier: zzz"


def test_id_parts_and_text() -> None:
    tid = TronId(kind=IdKind.ACTION_RUN, job="a.b", run="1", action="c")
    assert tid.parts == ("a.b", "1", "c")
    assert str(tid) == "a.b.1.c"


@pytest.mark.parametrize(
    ("parts", "path"),
    [
        (("jobs", "demo.uni_ünïcode_job"), "/api/jobs/demo.uni_%C3%BCn%C3%AFcode_job"),
        (("jobs", "a.b", 1, "grüß"), "/api/jobs/a.b/1/gr%C3%BC%C3%9F"),
        (("jobs", "a/b", "50%"), "/api/jobs/a%2Fb/50%25"),
        (("jobs", "日本.🚀"), "/api/jobs/%E6%97%A5%E6%9C%AC.%F0%9F%9A%80"),
    ],
)
def test_every_path_element_is_percent_encoded(parts: tuple[str, ...], path: str) -> None:
    assert api_path(*parts) == path
