"""kill -9 at load: 100+ action runs in flight, trond killed six times at different moments.

The config mixes every shape recovery must handle: wide DAGs with a cleanup, actions that fail
and retry after a delay (some are in that delay at a kill), `allow_overlap: false` jobs whose
scheduled run queues (or is cancelled) behind a manual run, a trigger chain, and actions of
0 to 3 s, so kills land on actions `starting`, `running` and just exited. Manual starts are
fired in bursts, one of them while trond is being killed (runs created and not started).
What each kill left on disk is counted from the state file and printed (run with -s).

Every attempt of every action appends one line naming its attempt (read from its own output
directory, `.../<action>/<attempt>/stderr`) to a marker file of its action run, so a command
run twice, or never, shows. What each action does is fixed by its name (sleep, exit code,
how many attempts fail), so the outcome of every job run follows from the config alone:
- nothing lost: every job run ends (the only run left is each slot job's next day's run),
  every action whose requirements succeeded ran, with the attempts its retries imply;
- nothing twice: each attempt's marker line appears once;
- nothing `unknown`: every exit is the command's own, attempt by attempt, and so is stdout.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.trond_process import TrondProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

DEADLINE = 120.0  # every wait is on a condition; this only bounds a hung run
SLOT_DELAY = timedelta(seconds=20)  # slot jobs' scheduled run: after the first kills
END_STATES = frozenset({"succeeded", "failed", "cancelled", "skipped"})
TRIGGER = "MASTER.producer.make.done.yes"

# One attempt: mark it, sleep (or hold until released), print, exit. `$3` attempts fail.
ACT_SH = """\
err=$(readlink "/proc/$$/fd/2")
attempt=${err%/stderr}
attempt=${attempt##*/}
id="$TRON_JOB_NAME.$TRON_RUN_NUM.$TRON_ACTION"
echo "$id.$attempt" >>"MARKS/$id"
if [ "$1" = hold ]; then
    while [ ! -e RELEASE ]; do sleep 0.1; done
else
    sleep "$1"
fi
echo "out $id.$attempt"
if [ "$attempt" -le "$3" ]; then exit "$2"; fi
exit 0
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Act:
    """An action: its first `fails` attempts exit `code`, later ones 0."""

    name: str
    sleep: str = "0"  # seconds, or "hold" until the test releases it
    code: int = 0
    fails: int = 0
    retries: int = 0
    retries_delay: str | None = None
    requires: tuple[str, ...] = ()
    triggered_by: tuple[str, ...] = ()
    trigger_downstreams: dict[str, str] | None = None

    @property
    def attempts(self) -> int:
        return min(self.fails, self.retries) + 1

    def exit_of(self, attempt: int) -> int:
        return self.code if attempt <= self.fails else 0

    @property
    def succeeds(self) -> bool:
        return self.exit_of(self.attempts) == 0

    def config(self, script: Path) -> dict[str, Any]:
        body: dict[str, Any] = {"command": f"sh {script} {self.sleep} {self.code} {self.fails}"}
        if self.retries:
            body["retries"] = self.retries
        if self.retries_delay:
            body["retries_delay"] = self.retries_delay
        if self.requires:
            body["requires"] = list(self.requires)
        if self.triggered_by:
            body["triggered_by"] = list(self.triggered_by)
        if self.trigger_downstreams:
            body["trigger_downstreams"] = self.trigger_downstreams
        return body


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    name: str
    actions: tuple[Act, ...]
    cleanup: Act = Act(name="cleanup")
    allow_overlap: bool = True
    queueing: bool = True
    slot: bool = False  # one scheduled run at the slot time; else none during the test

    @property
    def full_name(self) -> str:
        return f"MASTER.{self.name}"

    def act(self, name: str) -> Act:
        return next(a for a in (*self.actions, self.cleanup) if a.name == name)


_SLEEPS = ("0", "0.5", "1", "1.5", "2", "3")
WIDE = Job(
    name="wide",
    actions=(
        Act(name="root", sleep="0.2"),
        *(
            Act(
                name=f"w{i}",
                sleep=_SLEEPS[i % len(_SLEEPS)],
                code={9: 1, 10: 2}.get(i, 0),
                fails=99 if i in (9, 10) else 0,
                requires=("root",),
            )
            for i in range(12)
        ),
        Act(name="join", sleep="0.5", requires=("w0", "w1", "w2")),
        Act(name="after_fail", requires=("w9",)),  # never runs: w9 fails
    ),
)
FLAKY = Job(
    name="flaky",
    actions=(
        Act(name="always_fails", sleep="0.3", code=3, fails=99, retries=2, retries_delay="1s"),
        Act(name="second_try", sleep="0.5", code=5, fails=1, retries=3, retries_delay="2s"),
        Act(name="nodelay", code=4, fails=99, retries=1),
        Act(name="after_second", sleep="0.5", requires=("second_try",)),
        Act(name="quick"),
        Act(name="slow", sleep="3"),
    ),
)
FAN = Job(
    name="fan",
    # Twenty launches at once from one start: a kill right after it finds them `starting`.
    actions=tuple(
        Act(name=f"f{i}", sleep=_SLEEPS[i % 3], code=i % 5, fails=99 if i % 5 else 0)
        for i in range(20)
    ),
)
_HOLD = (Act(name="hold", sleep="hold"), Act(name="work", sleep="0.5", requires=("hold",)))
QUEUE_A = Job(name="queue_a", actions=_HOLD, allow_overlap=False, slot=True)
# Its manual run fails once and waits out a retry delay while the scheduled run queues.
QUEUE_B = Job(
    name="queue_b",
    actions=(
        _HOLD[0],
        Act(name="work", code=6, fails=1, retries=2, retries_delay="1s", requires=("hold",)),
    ),
    allow_overlap=False,
    slot=True,
)
NO_QUEUE = Job(name="noqueue", actions=_HOLD, allow_overlap=False, queueing=False, slot=True)
PRODUCER = Job(
    name="producer",
    actions=(Act(name="make", sleep="1", trigger_downstreams={"done": "yes"}),),
)
CONSUMER = Job(
    name="consumer",
    actions=(
        Act(name="use", sleep="0.5", triggered_by=(TRIGGER,)),
        Act(name="after", requires=("use",)),
    ),
)
JOBS = (WIDE, FAN, FLAKY, QUEUE_A, QUEUE_B, NO_QUEUE, PRODUCER, CONSUMER)
BY_NAME = {job.full_name: job for job in JOBS}


def _daily(when: datetime) -> str:
    return f"daily {when:%H:%M:%S}"


def _config(script: Path, slot: datetime, now: datetime) -> str:
    """The namespace as JSON (which is YAML): no quoting to get wrong."""
    far = _daily(now - timedelta(hours=1))  # its next slot is 23 hours away
    jobs = {}
    for job in JOBS:
        jobs[job.name] = {
            "node": "localhost",
            "schedule": _daily(slot) if job.slot else far,
            "allow_overlap": job.allow_overlap,
            "queueing": job.queueing,
            "actions": {a.name: a.config(script) for a in job.actions},
            "cleanup_action": {"command": job.cleanup.config(script)["command"]},
        }
    return json.dumps({"jobs": jobs}, indent=1) + "\n"


class Load:
    """The scenario's driver: one trond, the bursts of starts, snapshots of every run."""

    def __init__(self, root: Path) -> None:
        self.marks = root / "marks"
        self.marks.mkdir()
        self.release = root / "release"
        script = root / "act.sh"
        script.write_text(
            ACT_SH.replace("MARKS", str(self.marks)).replace("RELEASE", str(self.release))
        )
        config = root / "config"
        config.mkdir()
        now = datetime.now(UTC)
        self.slot = now + SLOT_DELAY
        (config / "MASTER.yaml").write_text(_config(script, self.slot, now))
        self.trond = TrondProcess(root / "work", config)
        self.created: list[str] = []  # run ids trond answered for
        self.kills = 0
        self.at_kills: list[dict[str, int]] = []  # what each kill left behind
        self._reader: httpx.Client | None = None
        self.seen: dict[str, int] = {}  # how many action runs were seen in a state

    def start(self) -> None:
        self.trond.start(timeout=DEADLINE)

    def kill_and_restart(self, down: float = 0.0) -> None:
        self.trond.kill9()
        self.close()
        self.kills += 1
        self.at_kills.append(self.durable_tally())
        if down:
            time.sleep(down)  # what ends meanwhile is only seen by the next trond
        self.start()

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def durable_tally(self) -> dict[str, int]:
        """What the killed trond left on disk that recovery must handle (figures only)."""
        names = ("in flight", "starting", "running", "in retry delay")
        tally = dict.fromkeys((*names, "created, not started", "queued"), 0)
        database = self.trond.working_dir / "tron_state.sqlite"
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            records = [json.loads(r) for (r,) in db.execute("SELECT record FROM action_runs")]
            started = set(
                db.execute("SELECT job_name, run_num FROM job_runs WHERE start_time IS NOT NULL")
            )
            unstarted = db.execute(
                "SELECT count(*) FROM job_runs WHERE manual AND start_time IS NULL"
            )
            tally["created, not started"] = unstarted.fetchone()[0]
        queued = set()
        for record in records:
            state = record["state"]
            if state == "running" and record.get("retry_at"):
                state = "in retry delay"
            run = (record["job_name"], record["run_num"])
            if state == "queued":
                queued.add(run)
            elif state in tally:
                tally[state] += 1
            if run in started and state not in END_STATES:
                tally["in flight"] += 1
        tally["queued"] = len(queued)
        return tally

    def post_start(self, job: Job) -> str:
        response = httpx.post(
            f"{self.trond.url}/api/jobs/{job.full_name}", data={"command": "start"}, timeout=60
        )
        response.raise_for_status()
        result: str = response.json()["result"]
        assert result.startswith("Created JobRun:"), result
        run_id = result.removeprefix("Created JobRun:")
        self.created.append(run_id)
        return run_id

    def burst(self, jobs: Sequence[Job]) -> None:
        """Start them all at once, as several clients would."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(self.post_start, jobs))

    def get(self, path: str, **params: int) -> Any:
        """One connection for all reads of one trond (a new one per read is slow at load)."""
        if self._reader is None:
            self._reader = httpx.Client(base_url=self.trond.url, timeout=60)
        response = self._reader.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def runs(self, job: Job) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = self.get(f"/api/jobs/{job.full_name}", include_action_runs=1)[
            "runs"
        ]
        for run in runs:
            for action_run in run["runs"]:
                state = action_run["state"]
                if action_run["in_delay"] is not None:
                    state = "in retry delay"
                self.seen[state] = self.seen.get(state, 0) + 1
            self.seen[f"job run {run['state']}"] = self.seen.get(f"job run {run['state']}", 0) + 1
        return runs

    def all_runs(self) -> dict[str, list[dict[str, Any]]]:
        return {job.full_name: self.runs(job) for job in JOBS}


def wait_for(what: str, predicate: Callable[[], bool], limit: float = DEADLINE) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not in {limit:.0f}s: {what}")
        time.sleep(0.1)


@pytest.fixture
def load(tmp_path: Path) -> Iterator[Load]:
    scenario = Load(tmp_path)
    yield scenario
    scenario.close()
    scenario.trond.stop()
    scenario.release.touch()  # let held actions end, whatever happened


def _has_delay(runs: list[dict[str, Any]]) -> bool:
    return any(a["in_delay"] is not None for run in runs for a in run["runs"])


def _slot_run_taken(load: Load, job: Job) -> bool:
    """The slot job's scheduled run fired: it is no longer `scheduled`."""
    runs = [r for r in load.runs(job) if not r["manual"]]
    return any(r["state"] != "scheduled" for r in runs)


def _finished(load: Load) -> bool:
    now = datetime.now(UTC)
    for runs in load.all_runs().values():
        for run in runs:
            if run["state"] in END_STATES or run["state"] == "unknown":
                continue  # ended (an unknown action is reported by the checks)
            if run["state"] == "scheduled" and not run["manual"] and _time(run["run_time"]) > now:
                continue  # a slot job's next run, tomorrow
            return False
    return True


def _time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def test_kill_9_six_times_with_100_action_runs_in_flight(load: Load) -> None:
    load.start()
    # Manual runs that hold their allow_overlap: false job busy, so its scheduled run queues
    # (or, without queueing, is cancelled); consumers waiting for their trigger.
    load.burst([QUEUE_A, QUEUE_B, NO_QUEUE, CONSUMER, CONSUMER])
    # Kill 1: right after a burst; the fan's twenty actions are `starting` or just launched.
    load.burst([WIDE] * 5 + [FLAKY] * 4 + [PRODUCER])
    load.post_start(FAN)
    load.kill_and_restart(down=0.5)

    # Kill 2: retries waiting out their delay, long actions running, short ones ending while
    # trond is down (and some retry delays expiring then).
    load.burst([FLAKY] * 2)
    wait_for("an action in its retry delay", lambda: _has_delay(load.runs(FLAKY)))
    load.kill_and_restart(down=1.5)

    started = len(load.created)
    # Kill 3: with six clients starting runs as fast as trond answers: some runs are created
    # and not yet started, some starts never get their answer.
    stop = threading.Event()

    def client(jobs: Sequence[Job]) -> None:
        for job in jobs:
            if stop.is_set():
                return
            try:
                load.post_start(job)
            except httpx.HTTPError:
                return  # trond died under this one: the run may exist or not

    clients = [
        threading.Thread(target=client, args=(jobs,))
        for jobs in ([WIDE] * 2, [FLAKY] * 2, [FAN] * 2, [CONSUMER] * 2, [PRODUCER, WIDE], [FAN])
    ]
    for thread in clients:
        thread.start()
    wait_for("four starts answered", lambda: len(load.created) >= started + 4)
    stop.set()
    load.kill_and_restart()
    for thread in clients:
        thread.join()

    # Kill 4: right after a start of twenty actions; kill 5: as soon as the next trond
    # answers, with its relaunches and reattaches under way.
    load.post_start(FAN)
    load.kill_and_restart()
    load.kill_and_restart(down=0.2)

    # Kill 6: once the slot jobs' scheduled runs fell due behind their manual runs.
    load.burst([WIDE, FLAKY])
    for job in (QUEUE_A, QUEUE_B, NO_QUEUE):
        wait_for(f"{job.name}'s slot fired", partial(_slot_run_taken, load, job))
    load.kill_and_restart(down=1.0)

    load.release.touch()
    wait_for("every run ended", lambda: _finished(load))
    final = load.all_runs()
    print(  # noqa: T201 - the scenario's figures, shown with -s
        f"\n{load.kills} kills, "
        f"{max(t['in flight'] for t in load.at_kills)} action runs in flight at most, "
        f"{sum(len(r) for r in final.values())} job runs, "
        f"{sum(len(p.read_text().splitlines()) for p in load.marks.iterdir())} attempts, "
        f"seen: {sorted(load.seen.items())}, left on disk at each kill: {load.at_kills}"
    )
    check_outcome(load, final)


def test_a_second_trond_on_the_same_state_is_refused_after_kill_9(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    now = datetime.now(UTC)
    (config / "MASTER.yaml").write_text(_config(tmp_path / "act.sh", now, now))
    first = TrondProcess(tmp_path / "work", config)
    other = tmp_path / "elsewhere.lock"
    second = TrondProcess(tmp_path / "work", config, args=["--lock-file", str(other)])
    try:
        first.start(timeout=DEADLINE)
        first.kill9()
        first.start(timeout=DEADLINE)
        with pytest.raises(RuntimeError, match="exited early"):
            second.start(timeout=DEADLINE)
    finally:
        second.stop()
        first.stop()


def check_outcome(load: Load, final: dict[str, list[dict[str, Any]]]) -> None:
    ids = {run["id"] for runs in final.values() for run in runs}
    assert set(load.created) <= ids, "a start trond answered for was lost"
    check = Checker(load)
    for job_name, runs in final.items():
        for run in runs:
            check.run(BY_NAME[job_name], run)
    stray = {p.name for p in load.marks.iterdir()} - check.marked
    check.problems += [f"{name}: ran, but trond has no such action run" for name in sorted(stray)]
    assert not check.problems, "\n".join(check.problems)


class Checker:
    """Compares every run with what the config implies; collects every discrepancy."""

    def __init__(self, load: Load) -> None:
        self.load = load
        self.problems: list[str] = []
        self.marked: set[str] = set()  # marker files that belong to an action run

    def run(self, job: Job, run: dict[str, Any]) -> None:
        ran = [a["action_name"] for a in run["runs"] if a["attempts"]]
        if run["state"] == "scheduled" and not run["manual"]:
            if ran:
                self.problems.append(f"{run['id']}: scheduled, yet ran {ran}")
            return
        if run["state"] == "cancelled":
            # Only a slot run of a job without queueing is cancelled (it fell due while busy).
            if job is not NO_QUEUE or run["manual"] or ran:
                self.problems.append(f"{run['id']}: cancelled, ran {ran}")
            return
        states = {a["action_name"]: a["state"] for a in run["runs"]}
        regular_ok = True
        for action_run in run["runs"]:
            act = job.act(action_run["action_name"])
            should_run = act is job.cleanup or all(states[r] == "succeeded" for r in act.requires)
            self.action(act, action_run, should_run=should_run)
            if act is not job.cleanup and should_run and not act.succeeds:
                regular_ok = False
        expected = "succeeded" if regular_ok else "failed"
        if run["state"] != expected:
            self.problems.append(f"{run['id']}: {run['state']}, expected {expected}")

    def action(self, act: Act, action_run: dict[str, Any], *, should_run: bool) -> None:
        job = action_run["job_name"].removeprefix("MASTER.")
        name = f"{job}.{action_run['run_num']}.{act.name}"
        label = f"{action_run['id']} ({action_run['state']})"
        attempts = action_run["attempts"]
        mark = self.load.marks / name
        lines = mark.read_text().splitlines() if mark.exists() else []
        if lines:
            self.marked.add(name)
        if action_run["state"] == "unknown":
            self.problems.append(f"{label}: unknown; its command ran {len(lines)} times: {lines}")
            return
        if not should_run:
            if attempts or lines or action_run["state"] in END_STATES:
                self.problems.append(f"{label}: ran or ended although a requirement failed")
            return
        expected_lines = [f"{name}.{n}" for n in range(1, act.attempts + 1)]
        if lines != expected_lines:
            self.problems.append(f"{label}: attempts ran {lines}, expected {expected_lines}")
        exits = [a["exit_status"] for a in attempts]
        expected_exits = [act.exit_of(n) for n in range(1, act.attempts + 1)]
        if exits != expected_exits:
            self.problems.append(f"{label}: exits {exits}, expected {expected_exits}")
        final = "succeeded" if act.succeeds else "failed"
        if action_run["state"] != final or action_run["exit_status"] != expected_exits[-1]:
            self.problems.append(f"{label}: exit {action_run['exit_status']}, expected {final}")
        stdout = self.load.get(
            f"/api/jobs/{action_run['job_name']}/{action_run['run_num']}/{act.name}",
            include_stdout=1,
        )["stdout"]
        if stdout != [f"out {line}" for line in expected_lines]:
            self.problems.append(f"{label}: stdout {stdout}")
