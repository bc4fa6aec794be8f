"""Loading from disk (directory, manifest, single file), the samples, and offline validation."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from tron.config import (
    MASTER,
    format_problems,
    load_config,
    load_namespaces,
    validate_paths,
)
from tron.errors import ConfigError, Problem

from .helpers import DATA, GOOD_JOB, MASTER_TEXT, SAMPLES, problems_of, sample


@pytest.fixture
def sample_dir(tmp_path: Path) -> Path:
    """The captured Tron config with the recording machine's `<peer>` paths filled in."""
    for name in ("MASTER.yaml", "demo.yaml"):
        text = sample(name).replace("<peer>", "/srv/peer")
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_sample_config_loads_with_every_job(sample_dir: Path) -> None:
    config = load_config(sample_dir)
    assert list(config.namespaces) == ["MASTER", "demo"]
    assert sorted(config.jobs) == [
        "MASTER.master_echo",
        "demo.cleanup_job",
        "demo.dag_job",
        "demo.failing_job",
        "demo.long_job",
        "demo.uni_ünïcode_job",
    ]
    dag = config.jobs["demo.dag_job"]
    assert dag.actions["load"].requires == ("transform", "report")
    assert dag.schedule.time_zone == "UTC"
    assert config.jobs["demo.cleanup_job"].cleanup_action is not None
    assert list(config.jobs["demo.uni_ünïcode_job"].actions) == ["grüß"]


def test_every_job_is_gathered_once_and_read_only(sample_dir: Path) -> None:
    # Asked once per alert routed: gathering every namespace's jobs each time cost an alert
    # check of 10,000 jobs seconds.
    config = load_config(sample_dir)
    assert config.jobs is config.jobs
    with pytest.raises(TypeError):
        config.jobs["demo.new"] = config.jobs["demo.dag_job"]  # type: ignore[index]
    again = load_config(sample_dir)
    assert again.jobs is not config.jobs
    assert again == config  # the gathered jobs are no part of what a config is
    assert dataclasses.replace(config, time_zone="UTC").jobs == config.jobs


def test_namespace_keeps_its_raw_text_and_file(sample_dir: Path) -> None:
    config = load_config(sample_dir)
    demo = config.namespaces["demo"]
    assert demo.text == (sample_dir / "demo.yaml").read_text(encoding="utf-8")
    assert demo.file == str(sample_dir / "demo.yaml")


def test_documentation_style_config_loads() -> None:
    config = load_config(DATA / "docs")
    assert sorted(config.jobs) == [
        "MASTER.nightly_report",
        "batch.hourly_sync",
        "batch.legacy_daily",
        "batch.monthly_bill",
    ]
    nightly = config.jobs["MASTER.nightly_report"]
    assert nightly.max_runtime == timedelta(hours=2)
    assert nightly.expected_runtime == timedelta(minutes=90)
    assert nightly.schedule.time_zone == "Europe/Paris"
    assert nightly.actions["extract"].retries_delay == timedelta(minutes=5)
    assert nightly.cleanup_action is not None
    sync = config.jobs["batch.hourly_sync"].actions["sync"]
    assert sync.retries_backoff is not None
    assert sync.retries_backoff.max_delay == timedelta(minutes=10)
    assert dict(sync.env) == {"RSYNC_RSH": "ssh"}
    bill = config.jobs["batch.monthly_bill"]
    assert bill.catch_up.policy == "latest"
    assert bill.catch_up.window == timedelta(days=7)
    assert bill.actions["bill"].trigger_timeout == timedelta(hours=12)
    assert config.jobs["batch.hourly_sync"].schedule.jitter == timedelta(minutes=2)


def test_manifest_maps_namespaces_to_files(tmp_path: Path) -> None:
    (tmp_path / "main.yaml").write_text(MASTER_TEXT, encoding="utf-8")
    (tmp_path / "team_a.yaml").write_text(GOOD_JOB, encoding="utf-8")
    (tmp_path / "ignored.yaml").write_text("not: [valid", encoding="utf-8")
    manifest = f"MASTER: {tmp_path / 'main.yaml'}\nteam.a: /old/place/team_a.yaml\n"
    (tmp_path / "_manifest.yaml").write_text(manifest, encoding="utf-8")
    problems = _problems(lambda: load_config(tmp_path))
    # The manifest is honoured (ignored.yaml is not read), and a moved file is found by name.
    assert [p.message for p in problems] == [
        "Namespace name 'team.a' must not contain '.' (run ids are split on dots)"
    ]


def test_manifest_with_relative_paths_loads(tmp_path: Path) -> None:
    (tmp_path / "MASTER.yaml").write_text(MASTER_TEXT, encoding="utf-8")
    (tmp_path / "billing.yaml").write_text(GOOD_JOB, encoding="utf-8")
    (tmp_path / "_manifest.yaml").write_text(
        "MASTER: MASTER.yaml\nbilling: billing.yaml\n", encoding="utf-8"
    )
    assert list(load_config(tmp_path).jobs) == ["billing.job"]


@pytest.mark.parametrize(
    ("manifest", "fragment"),
    [
        ("[a, b]\n", "must map namespace names to file paths"),
        ("MASTER: {a: 1}\n", "must map namespace names to file paths"),
        ("MASTER: [x\n", "Invalid manifest format"),
    ],
)
def test_broken_manifest_is_a_problem(tmp_path: Path, manifest: str, fragment: str) -> None:
    (tmp_path / "_manifest.yaml").write_text(manifest, encoding="utf-8")
    problems = _problems(lambda: load_config(tmp_path))
    assert problems[0].file == str(tmp_path / "_manifest.yaml")
    assert fragment in problems[0].message


def test_single_file_is_master(tmp_path: Path) -> None:
    path = tmp_path / "tron.yaml"
    path.write_text(MASTER_TEXT + GOOD_JOB, encoding="utf-8")
    config = load_config(path)
    assert list(config.jobs) == ["MASTER.job"]


def test_directory_without_master_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "ns.yaml").write_text(GOOD_JOB, encoding="utf-8")
    problems = _problems(lambda: load_config(tmp_path))
    assert problems[0].file == str(tmp_path / "MASTER.yaml")
    assert "Cannot read the file" in problems[0].message


def test_namespaces_without_master_are_a_problem_unless_partial() -> None:
    sources = {"ns": ("ns.yaml", GOOD_JOB)}
    with pytest.raises(ConfigError) as info:
        load_namespaces(sources)
    assert [p.message for p in info.value.problems] == [
        "A config mapping requires a MASTER namespace"
    ]
    assert list(load_namespaces(sources, partial=True).jobs) == ["ns.job"]


def test_partial_skips_node_and_command_checks() -> None:
    text = GOOD_JOB.replace("node: pool", "node: ghost").replace("{ENV}", "{UNDEFINED}")
    config = load_namespaces({"broken": ("broken.yaml", text)}, partial=True)
    assert config.jobs["broken.job"].node == "ghost"


def test_partial_still_reports_everything_else() -> None:
    text = GOOD_JOB.replace("requires: [first]", "requires: [second]")
    with pytest.raises(ConfigError) as info:
        load_namespaces({"ns": ("ns.yaml", text)}, partial=True)
    assert "Circular dependency in job.ns.job: second -> second" in info.value.problems[0].message


def test_default_time_zone_applies_when_no_time_zone_is_set() -> None:
    sources = {"MASTER": ("MASTER.yaml", MASTER_TEXT), "ns": ("ns.yaml", GOOD_JOB)}
    config = load_namespaces(sources, default_time_zone="America/New_York")
    assert config.jobs["ns.job"].schedule.time_zone == "America/New_York"
    assert load_namespaces(sources).jobs["ns.job"].schedule.time_zone is None


def test_non_utf8_file_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "MASTER.yaml").write_bytes(b"nodes: [\xff]\n")
    problems = _problems(lambda: load_config(tmp_path))
    assert "not valid UTF-8" in problems[0].message


def test_several_problems_in_one_file_are_all_reported_in_line_order() -> None:
    text = """\
jobs:
  first:
    node: ghost
    schedule: "every blursday"
    actions:
      a: {command: "echo {nope}", requires: [b]}
      b: {command: "true", requires: [a]}
    run_limit: -3
  second:
    node: pool
    schedule: daily
    actions: {}
"""
    problems = problems_of(text)
    assert [(p.line, p.key_path) for p in problems] == [
        (3, "jobs.first.node"),
        (4, "jobs.first.schedule"),
        (6, "jobs.first.actions.a.command"),
        (6, "jobs.first.actions.a.requires"),
        (8, "jobs.first.run_limit"),
        (12, "jobs.second.actions"),
    ]


def test_problems_of_several_files_come_master_first() -> None:
    sources = {
        "ns": ("ns.yaml", "jobs: 3\n"),
        "MASTER": ("MASTER.yaml", "colour: red\n"),
    }
    with pytest.raises(ConfigError) as info:
        load_namespaces(sources)
    assert [p.file for p in info.value.problems] == ["MASTER.yaml", "ns.yaml"]


def test_format_problems_writes_one_line_each() -> None:
    problems = [
        Problem("ns.yaml", 3, "jobs.j.node", "Unknown node name x at jobs.j.node"),
        Problem("", 0, "", "A config mapping requires a MASTER namespace"),
    ]
    assert format_problems(problems) == (
        "ns.yaml:3: jobs.j.node: Unknown node name x at jobs.j.node\n"
        "A config mapping requires a MASTER namespace"
    )


def test_validate_paths_checks_a_lone_fragment_partially() -> None:
    config, problems = validate_paths(SAMPLES / "broken_unknown_node.yaml", namespace="broken")
    assert problems == []
    assert config is not None
    assert list(config.jobs) == ["broken.bad_job"]


def test_validate_paths_with_master_checks_nodes(sample_dir: Path) -> None:
    config, problems = validate_paths(
        SAMPLES / "broken_unknown_node.yaml", master=sample_dir / "MASTER.yaml"
    )
    assert config is None
    assert [(p.line, p.key_path) for p in problems] == [(3, "jobs.bad_job.node")]
    assert problems[0].file.endswith("broken_unknown_node.yaml")


def test_validate_paths_of_master_file_is_full(tmp_path: Path) -> None:
    path = tmp_path / "MASTER.yaml"
    path.write_text(GOOD_JOB, encoding="utf-8")
    _, problems = validate_paths(path)
    assert [p.key_path for p in problems] == ["jobs.job.node", "jobs.job.actions.first.command"]


def test_validate_paths_of_a_directory(sample_dir: Path) -> None:
    config, problems = validate_paths(sample_dir)
    assert problems == []
    assert config is not None
    assert set(config.namespaces) == {MASTER, "demo"}


def test_validate_paths_reports_unreadable_files(tmp_path: Path) -> None:
    config, problems = validate_paths(tmp_path / "nope.yaml", master=tmp_path / "gone.yaml")
    assert config is None
    assert [Path(p.file).name for p in problems] == ["gone.yaml", "nope.yaml"]


def _problems(call: object) -> tuple[Problem, ...]:
    with pytest.raises(ConfigError) as info:
        call()  # type: ignore[operator]
    return info.value.problems
