"""Several trond on one real PostgreSQL server: failover under kill -9, fencing of a paused
leader, and the database restarted under the daemons. Every wait is on a condition with a
generous limit; timings are measured by bench/ha.py, never asserted here."""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import pytest

from tests.integration.ha_cluster import (
    Cluster,
    amid_bursts,
    check_every_minute_once,
    check_exactly_once,
    due_launches,
    in_a_burst,
    seconds_to_next_minute,
    settled,
    summary,
    wait_for,
)
from tests.pg import PgServer
from tests.receivers import WebhookReceiver
from tests.sshd import SshKit

pytestmark = [pytest.mark.postgres, pytest.mark.ssh, pytest.mark.slow]

# The proof at its full size: three trond, DUE_JOBS jobs due every minute, long
# actions on SSH nodes, KILLS kill -9 of the leader at random moments, at least BURST_KILLS of
# them amid a minute's burst. A short lease keeps it quick (a failover takes about a lease
# and a recovery); the failover time with the default lease is bench/ha.py's to measure.
KILLS = 20
DUE_JOBS = 200
BURST_KILLS = 2
LEASE_SECONDS, RENEW_SECONDS = 2, 0.5
MAX_CYCLE = 20  # the longest a kill is expected to take, when deciding to wait for a burst


@pytest.fixture
def cluster(tmp_path: Path, pg_url: str, ssh_kit: SshKit) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path, pg_url, ssh_kit=ssh_kit)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.mark.timeout(600)
def test_killing_the_leader_again_and_again_runs_every_slot_exactly_once(
    tmp_path: Path, pg_url: str, ssh_kit: SshKit
) -> None:
    """Manual starts, long actions on SSH nodes and jobs due every minute; the leader is
    killed at random moments, some of them amid a minute's burst: every long action running
    at a kill is reattached by the next leader and ends with its real exit code."""
    cluster = Cluster(
        tmp_path, pg_url, ssh_kit=ssh_kit, due_jobs=DUE_JOBS, long_seconds=None,
        lease_seconds=LEASE_SECONDS, renew_seconds=RENEW_SECONDS,
    )  # fmt: skip
    since = datetime.now(UTC)
    rng = random.Random(12)
    jobs, longs = itertools.cycle(cluster.quick), itertools.cycle(cluster.long)
    running_at_kill: list[str] = []
    before_kill: list[Counter[str]] = []  # the launches just before each kill
    caught_bursts = 0  # kills that fell amid a burst, as the launches before them show
    try:
        cluster.start()
        killed = time.monotonic()  # when the last kill was done
        with ThreadPoolExecutor(4) as starts:
            for kill in range(KILLS):
                leader = cluster.leader()
                # A long action that runs until this test lets it end, and quick ones.
                long, *_ = starts.map(cluster.start_run, [next(longs), *islice(jobs, 3)])
                wait_for(lambda r=long: r in cluster.launch_counts(), 60, "the long one starts")
                # Amid the burst that begins before the next kill could (as long as the last
                # one took from its kill to here, and some), or the next one when the kills
                # left are needed for the bursts still owed. (Others may fall amid a burst
                # by chance.) All three are up first, so the kill follows the burst's first
                # launch at once: on a busy machine a wait there let whole bursts go by.
                cluster.wait_all_up()
                cycle = min(1.5 * (time.monotonic() - killed), MAX_CYCLE)
                burst = (
                    seconds_to_next_minute() < cycle or KILLS - kill <= BURST_KILLS - caught_bursts
                )
                if burst:
                    begun = due_launches(cluster)
                    wait_for(lambda n=begun: due_launches(cluster) > n, 90, "a burst", 0.02)
                else:
                    time.sleep(rng.uniform(0, 1))
                before_kill.append(cluster.launch_counts())
                caught_bursts += in_a_burst(cluster, before_kill[-1])
                cluster.kill9(leader)
                killed = time.monotonic()
                assert long not in cluster.ended()  # running when its leader died
                running_at_kill.append(long)
                # It ends either before the next leader reattaches to it or after.
                ends_early = rng.random() < 0.5
                if ends_early:
                    cluster.release(long)
                # Starts sent while nobody leads wait for the next leader (same request keys).
                cluster.start_run(next(jobs))
                # Back as a standby once another leads (three of them at the next kill).
                cluster.restart(leader, wait=False)
                launched = sum(before_kill[-1].values())
                wait_for(lambda n=launched: sum(cluster.launch_counts().values()) > n, 60, "launch")
                cluster.release(long)
        check_exactly_once(cluster)
        check_every_minute_once(cluster, since)
        # Each long action ended failed with its own exit code 3, reattached by a new leader.
        by_id = {str(r.id): r for r in cluster.runs()}
        ended = [(by_id[r].action_runs[0].state.value, by_id[r].action_runs[0].exit_status)
                 for r in running_at_kill]  # fmt: skip
        assert ended == [("failed", 3)] * KILLS
        assert amid_bursts(cluster, before_kill) >= BURST_KILLS
    finally:
        cluster.stop()


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
    others = {n.url for n in cluster.nodes if n is not old}
    assert new.url in others

    def stepped_down_naming_the_leader() -> bool:
        # On a busy machine a starved renewal may have moved the lease on again since `new`
        # took it: the leader it names is whichever other trond leads now.
        mine = cluster.status(old)
        if not mine or mine["role"] != "standby":
            return False
        leading = [
            n.url for n in cluster.nodes
            if n is not old and (s := cluster.status(n)) and s.get("role") == "leader"
        ]  # fmt: skip
        return leading == [mine["leader"]]

    wait_for(stepped_down_naming_the_leader, 60, "it steps down and names the leader")
    assert summary(cluster.runs()) == runs_before
    assert cluster.launch_counts() == launches_before
    assert "stepping down as leader" in old.log.read_text()
    # It refuses commands now, naming the leader, and audits nothing. (An audit entry of a
    # command it took while it led may have been fenced when it froze: that is logged before.)
    import httpx

    logged = len(old.log.read_bytes())
    refused = httpx.post(f"{old.url}/api/jobs/{cluster.quick[2]}", data={"command": "start"})
    assert refused.status_code == 409
    assert refused.json()["leader"] in others
    assert b"could not record" not in old.log.read_bytes()[logged:]
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
