"""Triggers on Tron's wire: `trigger_downstreams` as `key.value`, `triggered_by` sorted, the
action graph's TRIGGER pseudo-nodes (Tron's JobGraph), a waiting run's missing start_time."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from tests.unit.core.core_builders import T0, make_job, new_run

from tron.api import shapes
from tron.api.trigger_graph import TriggerGraph
from tron.config.model import ActionConfig, JobConfig
from tron.core.job_run import action_started, action_starting, start_job_run
from tron.core.records import JobRun


def job(name: str, *actions: ActionConfig, namespace: str = "alpha") -> JobConfig:
    return replace(make_job(actions, cleanup=None), name=name, namespace=namespace)


PRODUCER = job(
    "producer",
    ActionConfig(
        name="emit",
        command="echo producing",
        trigger_downstreams={"zone": "{ym}", "batch": "{shortdate}"},
    ),
)
CONSUMER = job(
    "consumer",
    ActionConfig(
        name="ingest",
        command="echo ingesting",
        # Out of order on purpose: Tron sorts them.
        triggered_by=(
            "alpha.producer.emit.batch.{shortdate}",
            "alpha.producer.emit.batch.{shortdate-1}",
        ),
    ),
    ActionConfig(name="after", command="echo after", requires=("ingest",)),
)
JOBS = {j.full_name: j for j in (PRODUCER, CONSUMER)}


def view(
    published: tuple[str, ...] = (), triggers: shapes.JobTriggers | None = None
) -> shapes.View:
    return shapes.View(
        now=T0 + timedelta(minutes=5),
        zone=None,
        nodes={},
        published=published,
        triggers=triggers or {},
    )


def started(config: JobConfig) -> JobRun:
    run, _ = start_job_run(new_run(config, run_time=T0), now=T0)
    return run


def test_trigger_downstreams_are_trons_key_values_sorted() -> None:
    emit = started(PRODUCER).action_runs[0]
    # The event ids stay whole inside; the wire has what Tron's skip-and-publish prefixes.
    assert emit.trigger_downstreams[1] == "alpha.producer.emit.batch.2024-03-05"
    body = shapes.action_run_json(emit, view())
    assert body["trigger_downstreams"] == "batch.2024-03-05, zone.2024-03"


def test_triggered_by_is_sorted_and_marks_published_ones_done() -> None:
    ingest = started(CONSUMER).action_runs[0]
    body = shapes.action_run_json(ingest, view(published=("alpha.producer.emit.batch.2024-03-05",)))
    assert body["triggered_by"] == (
        "alpha.producer.emit.batch.2024-03-04, alpha.producer.emit.batch.2024-03-05 (done)"
    )


def test_job_graphs_carry_trons_trigger_pseudo_nodes_both_ways() -> None:
    graph = TriggerGraph(JOBS)
    assert shapes.job_graph_json(CONSUMER, graph.for_job(CONSUMER)) == [
        {"name": "ingest", "command": "echo ingesting", "dependencies": ["alpha.producer.emit"]},
        {"name": "after", "command": "echo after", "dependencies": ["ingest"]},
        {"name": "alpha.producer.emit", "command": "TRIGGER", "dependencies": []},
    ]
    # The producer's graph shows who waits for it, hanging off its action.
    assert shapes.job_graph_json(PRODUCER, graph.for_job(PRODUCER)) == [
        {"name": "emit", "command": "echo producing", "dependencies": []},
        {"name": "alpha.consumer.ingest", "command": "TRIGGER", "dependencies": ["emit"]},
    ]


def test_a_chain_of_triggers_is_followed_past_the_next_job() -> None:
    a = job("a", ActionConfig(name="x", command="true", trigger_downstreams=True))
    b = job(
        "b", ActionConfig(name="y", command="true", triggered_by=("ns.a.x.shortdate.{shortdate}",))
    )
    c = job(
        "c", ActionConfig(name="z", command="true", triggered_by=("ns.b.y.shortdate.{shortdate}",))
    )
    a, b, c = (replace(j, namespace="ns") for j in (a, b, c))
    graph = TriggerGraph({j.full_name: j for j in (a, b, c)})
    assert graph.for_job(a) == {"ns.b.y": ("x",), "ns.c.z": ("ns.b.y",)}
    assert graph.for_job(b) == {"y": ("ns.a.x",), "ns.c.z": ("y",)}
    assert graph.for_job(c) == {"z": ("ns.b.y",), "ns.b.y": ("ns.a.x",)}
    names = [node["name"] for node in shapes.job_graph_json(c, graph.for_job(c))]
    assert names == ["z", "ns.a.x", "ns.b.y"]


def test_run_graph_has_trigger_nodes_in_state_unknown() -> None:
    run = started(CONSUMER)
    body = shapes.run_graph_json(run, view(triggers=TriggerGraph(JOBS).for_job(CONSUMER)))
    assert [(n["name"], n["state"], n["dependencies"]) for n in body] == [
        ("ingest", "waiting", ["alpha.producer.emit"]),
        ("after", "waiting", ["ingest"]),
        ("alpha.producer.emit", "unknown", []),
    ]
    assert body[-1] == {
        "name": "alpha.producer.emit",
        "command": "TRIGGER",
        "dependencies": [],
        "state": "unknown",
    }


def test_a_run_waiting_on_a_trigger_has_no_start_time_until_an_action_starts() -> None:
    run = started(CONSUMER)
    assert run.start_time is not None  # the run itself has started...
    body = shapes.job_run_json(run, view())
    assert (body["state"], body["start_time"], body["duration"]) == ("waiting", None, "")
    # ...and its start is its first action's, as in Tron.
    later = T0 + timedelta(minutes=2)
    run = action_started(action_starting(run, "ingest", now=later, node=None), "ingest", now=later)
    body = shapes.job_run_json(run, view())
    assert body["start_time"] == "2024-03-05 14:09:00"
    assert body["duration"] == "0:03:00"
