"""Several trond on one real PostgreSQL server: failover under kill -9, fencing of a paused
leader, and the database restarted under the daemons. Every wait is on a condition with a
generous limit; timings are measured by bench/ha.py, never asserted here."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.ha_cluster import Cluster, summary, wait_for
from tests.pg import PgServer
from tests.receivers import WebhookReceiver
from tron.core import job_run as jr

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

KILLS = 10


@pytest.fixture
def cluster(tmp_path: Path, pg_url: str) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path, pg_url)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def settled(cluster: Cluster) -> bool:
    """Every run started by request has finished, and nothing else is active."""
    runs = cluster.runs()
    manual = [r for r in runs if r.manual]
    return len(manual) == len(cluster.requested) and not any(jr.is_active(r) for r in runs)


def check_exactly_once(cluster: Cluster) -> None:
    wait_for(lambda: settled(cluster), 120, "every requested run finishes", every=0.5)
    runs = [r for r in cluster.runs() if r.manual]
    launches = cluster.launch_counts()
    assert len(runs) == len(cluster.requested), summary(runs)  # 0 lost
    twice = {run: n for run, n in launches.items() if n > 1}
    assert twice == {}  # 0 run twice
    for run in runs:
        (action,) = run.action_runs
        assert launches[str(run.id)] == 1, summary(runs)
        expected = ("failed", 3) if run.job_name in cluster.long else ("succeeded", 0)
        # A long action the killed leader started ends with its real exit code.
        assert (action.state.value, action.exit_status) == expected, summary(runs)


@pytest.mark.timeout(600)
def test_killing_the_leader_again_and_again_runs_every_start_exactly_once(
    cluster: Cluster,
) -> None:
    jobs = itertools.cycle(cluster.quick)
    longs = itertools.cycle(cluster.long)
    for _ in range(KILLS):
        leader = cluster.leader()
        cluster.start_run(next(longs))
        for _ in range(3):
            cluster.start_run(next(jobs))
        before = sum(cluster.launch_counts().values())
        cluster.kill9(leader)
        # Starts sent while nobody leads wait for the next leader (same request keys).
        cluster.start_run(next(jobs))
        wait_for(lambda n=before: sum(cluster.launch_counts().values()) > n, 60, "a launch")
        cluster.restart(leader)
    check_exactly_once(cluster)


@pytest.mark.timeout(300)
def test_a_paused_leader_writes_and_launches_nothing_after_a_takeover(cluster: Cluster) -> None:
    old = cluster.leader()
    cluster.start_run(cluster.quick[0])
    wait_for(lambda: settled(cluster), 60, "the first run finishes")
    cluster.pause(old)
    new = cluster.leader(besides=old)
    cluster.start_run(cluster.quick[1])
    wait_for(lambda: settled(cluster), 60, "a run by the new leader finishes")
    # Starts the old leader took before it froze are not there: it got none. Now give it
    # every chance to act on what it believes, then look at what it did.
    runs_before, launches_before = summary(cluster.runs()), cluster.launch_counts()
    cluster.resume(old)
    wait_for(
        lambda: (s := cluster.status(old)) and (s["role"], s["leader"]) == ("standby", new.url),
        60,
        "it steps down and names the new leader",
    )
    assert summary(cluster.runs()) == runs_before
    assert cluster.launch_counts() == launches_before
    log = old.log.read_text()
    assert "stepping down as leader" in log
    # It refuses commands now, naming the leader.
    import httpx

    refused = httpx.post(f"{old.url}/api/jobs/{cluster.quick[2]}", data={"command": "start"})
    assert refused.status_code == 409
    assert refused.json()["leader"] == new.url
    assert "could not record" not in old.log.read_text()  # a standby's audit writes nothing
    cluster.start_run(cluster.quick[2])
    check_exactly_once(cluster)


@pytest.mark.timeout(300)
def test_restarting_the_database_loses_nothing(cluster: Cluster, pg_server: PgServer) -> None:
    cluster.start_run(cluster.long[0])
    cluster.start_run(cluster.quick[0])
    pg_server.pg_ctl("restart", "-m", "fast")
    for job in cluster.quick[1:]:
        cluster.start_run(job)
    check_exactly_once(cluster)
    assert cluster.leader()


# A job of MASTER's that fails, and a channel for it; the receiver refuses until told.
ALERTING = """\
notifications:
  check_every: 1s
  retry_initial: 1s
  retry_max: 1s
  channels:
    hook: {{type: webhook, url: "{url}"}}
  default_channels: [hook]
jobs:
  boom:
    node: localhost
    schedule: "cron 0 0 1 1 *"
    monitoring: {{team: data, realert_every: 1d}}
    actions:
      a: {{command: "exit 3"}}
"""


@pytest.mark.timeout(300)
def test_an_open_alert_and_an_undelivered_notification_survive_a_failover(
    tmp_path: Path, pg_url: str
) -> None:
    hook = WebhookReceiver(fail_first=10**9)
    cluster = Cluster(
        tmp_path, pg_url, count=2, quick_jobs=1, long_jobs=0,
        master_extra=ALERTING.format(url=hook.url),
    )  # fmt: skip
    try:
        cluster.start()
        old = cluster.leader()
        cluster.start_run("MASTER.boom")
        (opened,) = wait_for(lambda: old.get("/api/alerts")["alerts"], 60, "the alert opens")
        wait_for(lambda: hook.tries, 60, "a first try, refused")
        key = hook.tries[0]
        cluster.kill9(old)
        new = cluster.leader(besides=old)
        # The new leader holds the same alert, and the notification is still owed.
        assert new.get("/api/alerts")["alerts"] == [opened]
        owed = new.get("/api/notifications", alert=opened["id"])["notifications"]
        assert [(n["key"], n["state"]) for n in owed] == [(key, "pending")]
        hook.fail_first = 0
        wait_for(lambda: hook.keys(), 60, "the new leader delivers it")
        # Two more checks of the new leader: had it re-fired the alert, it would be queued.
        beat = new.get("/api/health")["last_heartbeat"]
        for _ in range(2):
            wait_for(
                lambda b=beat: (now := new.get("/api/health")["last_heartbeat"]) != b and now,
                60,
                "the next alert check",
            )
            beat = new.get("/api/health")["last_heartbeat"]
        assert [a["id"] for a in new.get("/api/alerts")["alerts"]] == [opened["id"]]
        sent = new.get("/api/notifications")["notifications"]
        assert [(n["key"], n["state"]) for n in sent] == [(key, "delivered")]
        assert hook.keys() == [key]
    finally:
        cluster.stop()
        hook.close()
