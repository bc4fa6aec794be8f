"""Crash at every durable write: for each scenario and every k, the engine is dropped right
after its k-th durable write (as `kill -9` would), recovered, and run to the end. The outcome
must equal the crash-free play: each attempt launched exactly once, the same runs with the
same final states, exit codes and attempts, the cleanup exactly once.

Invariants checked on every play:
- exactly-once launches: no (action run, attempt) is launched twice, none is missing;
- nothing lost: every run and action run ends as in the crash-free play;
- memory equals disk once settled (checked inside `World`).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from tests.unit.engine.sim import Scenario, World, start_job, stop_action, upload

DAG = Scenario(
    name="DAG with cleanup, scheduled and started by hand",
    config="""
    jobs:
      etl:
        node: localhost
        schedule: "cron 1 12 * * *"
        actions:
          extract: {command: "run 2 exit 0"}
          left: {command: "run 3 exit 0", requires: [extract]}
          right: {command: "run 1 exit 4", requires: [extract]}
          load: {command: "run 1 exit 0", requires: [left]}
        cleanup_action: {command: "run 1 exit 0"}
    """,
    seconds=75,
    steps={2: [start_job("MASTER.etl", "first")]},
)

RETRIES = Scenario(
    name="retries with a delay",
    config="""
    jobs:
      flaky:
        node: localhost
        schedule: "cron 0 4 * * *"
        actions:
          wobble: {command: "run 1 flaky 2", retries: 3, retries_delay: 5s}
          doomed: {command: "run 2 exit 3", retries: 1, retries_delay: 4s}
        cleanup_action: {command: "run 1 exit 0"}
    """,
    seconds=30,
    steps={1: [start_job("MASTER.flaky", "go")]},
)

TRIGGERS = Scenario(
    name="a trigger chain",
    config="""
    jobs:
      up:
        node: localhost
        schedule: "cron 0 4 * * *"
        actions:
          produce: {command: "run 2 exit 0", trigger_downstreams: true}
      down:
        node: localhost
        schedule: "cron 0 4 * * *"
        actions:
          consume:
            command: "run 1 exit 0"
            triggered_by: ["MASTER.up.produce.shortdate.{shortdate}"]
          after: {command: "run 1 exit 0", requires: [consume]}
    """,
    seconds=15,
    steps={1: [start_job("MASTER.down", "d")], 3: [start_job("MASTER.up", "u")]},
)

MANUAL = Scenario(
    name="manual starts, some just created when the crash comes",
    config="""
    jobs:
      solo:
        node: localhost
        schedule: "cron 0 4 * * *"
        actions:
          only: {command: "run 2 exit 0"}
          next: {command: "run 1 exit 1", requires: [only]}
    """,
    seconds=12,
    steps={
        1: [start_job("MASTER.solo", "a"), start_job("MASTER.solo", "b")],
        2: [start_job("MASTER.solo", "c")],
        5: [start_job("MASTER.solo", "d")],
    },
)

QUEUE = Scenario(
    name="queueing with allow_overlap: false",
    config="""
    jobs:
      slow:
        node: localhost
        schedule: "cron * * * * *"
        allow_overlap: false
        queueing: true
        actions:
          grind: {command: "run 75 exit 0"}
    """,
    seconds=200,
)

RECONFIGURE = Scenario(
    name="a reconfiguration in the middle",
    config="""
    jobs:
      minutely:
        node: localhost
        schedule: "cron * * * * *"
        actions:
          tick: {command: "run 2 exit 0"}
    """,
    seconds=130,
    steps={
        30: [
            upload(
                "MASTER",
                """
                jobs:
                  minutely:
                    node: localhost
                    schedule: "cron * * * * *"
                    actions:
                      tick: {command: "run 3 exit 0"}
                      tock: {command: "run 1 exit 0", requires: [tick]}
                  added:
                    node: localhost
                    schedule: "cron * * * * *"
                    actions:
                      new: {command: "run 1 exit 2"}
                """,
            )
        ]
    },
)

STOPS = Scenario(
    name="a stop and a kill, trond dying before their signal",
    config="""
    jobs:
      long:
        node: localhost
        schedule: "cron 0 4 * * *"
        actions:
          calm: {command: "run 100 exit 0"}
          hard: {command: "run 100 exit 0"}
    """,
    seconds=20,
    steps={
        1: [start_job("MASTER.long", "go")],
        3: [stop_action("MASTER.long", "calm", "stop")],
        4: [stop_action("MASTER.long", "hard", "kill")],
    },
)

SCENARIOS = [DAG, RETRIES, TRIGGERS, MANUAL, QUEUE, RECONFIGURE, STOPS]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
async def test_crash_after_every_durable_write_changes_nothing(
    scenario: Scenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_world = World(tmp_path / "clean", scenario, crash_at=None)
    clean = await clean_world.play()
    writes = clean_world.store.writes
    assert clean.runs, "the scenario ran nothing"
    assert max(Counter(clean.launches).values()) == 1
    for k in range(1, writes + 1):
        world = World(tmp_path / str(k), scenario, crash_at=k)
        outcome = await world.play()
        assert world.crashes == 1, f"crash point {k} of {writes} was never reached"
        duplicated = [key for key, n in Counter(outcome.launches).items() if n > 1]
        assert not duplicated, f"crash after write {k}: launched twice: {duplicated}"
        assert outcome.launches == clean.launches, f"crash after write {k}: launches differ"
        assert outcome.runs == clean.runs, f"crash after write {k}: outcome differs"
    with capsys.disabled():
        print(f"\n  {scenario.name}: {writes} crash points covered")  # noqa: T201
