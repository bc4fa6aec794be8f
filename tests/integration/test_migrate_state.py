"""`trond migrate-state` copies a whole state SQLite -> PostgreSQL -> SQLite, unchanged."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from tests.contract.test_alert_store import T0, alert, note
from tests.contract.test_store import full_job_run, job_run
from tron.__main__ import main
from tron.core.alerts.model import AlertKind, AuditEntry
from tron.core.states import ActionRunState
from tron.store.postgres import PostgresStore
from tron.store.sqlite import SqliteStore

pytestmark = pytest.mark.postgres


async def trond(*argv: str) -> int:
    """trond's main in a thread: it runs its own event loop."""
    return await asyncio.to_thread(main, list(argv))


async def _fill(store: SqliteStore) -> None:
    await store.open()
    await store.save_config_version("MASTER", "jobs: []\n", "h1")
    await store.save_config_version("MASTER", "jobs: [x]\n", "h2")
    await store.create_job_run(full_job_run(), slot="2024-10-27T02:30")
    run = job_run("ns.job", 3, actions=("a", "b"))
    await store.create_job_run(run, slot="s3")
    running = dataclasses.replace(run.action_runs[0], state=ActionRunState.RUNNING, node="n")
    await store.save_action_run(running, reason="started")
    await store.save_handle("ns.job.3.a", {"pid": 42, "attempt": 1})
    await store.set_job_enabled("ns.job", False)
    await store.add_event("ns.job.shortdate.2024-01-01")
    # Alerts in an order their ids do not sort in; one notification delivered, one pending.
    late, failed = alert("ns.zz", AlertKind.LATE), alert("ns.aa", at=1)
    await store.save_alerts([late, failed], [note(late, "k1"), note(failed, "k2", "mail")])
    await store.mark_delivered(1, T0)
    await store.add_audit(
        AuditEntry(at=T0, who="ana@::1", command="disable", target="ns.job", result="200", ok=True)
    )
    await store.add_audit(
        AuditEntry(at=T0, who="ünï", command="kill", target="ns.job.3.a", result="409", ok=False)
    )
    await store.set_silence("ns.zz", T0)
    await store.close()


async def _snapshot(store: SqliteStore | PostgresStore) -> tuple[object, ...]:
    await store.open()
    try:
        runs = await store.load_job_runs()
        return (
            runs,
            await store.load_job_states(),
            await store.load_handles(),
            await store.events(),
            [
                (v.namespace, v.version, v.text, v.hash, v.saved_at)
                for v in await store.config_versions()
            ],
            [await store.transitions(str(a.id)) for r in runs for a in r.action_runs],
            await store.load_alerts(),
            await store.notifications(),
            await store.pending_notifications(),
            await store.audit_log(),
            await store.silences(),
        )
    finally:
        await store.close()


async def test_a_state_goes_to_postgres_and_back_unchanged(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "tron_state.sqlite"
    await _fill(SqliteStore(source))
    before = await _snapshot(SqliteStore(source))
    assert await trond("migrate-state", "--from", f"sqlite:{source}", "--to", pg_url) == 0
    out = capsys.readouterr().out
    assert "job_runs: 2" in out
    assert "transitions: 4" in out
    assert "alerts: 2\noutbox: 2\naudit_log: 2\nsilences: 1\n" in out
    assert await _snapshot(PostgresStore(pg_url)) == before

    # A new row after the copy sorts after the copied ones.
    store = PostgresStore(pg_url)
    await store.open()
    assert (await store.save_config_version("MASTER", "jobs: [y]\n", "h3")).version == 3
    assert [v.hash for v in await store.config_versions()] == ["h1", "h2", "h3"]
    newer = alert("ns.mm", at=2)
    await store.save_alerts([newer], [note(newer, "k3")])
    assert [a.key.job for a in await store.load_alerts()] == ["ns.mm", "ns.aa", "ns.zz"]
    assert [n.key for n in await store.pending_notifications()] == ["k2", "k3"]
    audit = AuditEntry(at=T0, who="x", command="enable", target="ns.job", result="200", ok=True)
    assert (await store.add_audit(audit)).seq == 3
    await store.close()

    back = tmp_path / "back.sqlite"
    assert await trond("migrate-state", "--from", pg_url, "--to", f"sqlite:{back}") == 0
    after = await _snapshot(SqliteStore(back))
    assert after[:4] == before[:4]
    assert after[5] == before[5]
    assert after[6:] == (await _snapshot(PostgresStore(pg_url)))[6:]  # with the alert added


async def test_a_non_empty_target_is_refused_without_force(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "tron_state.sqlite"
    await _fill(SqliteStore(source))
    assert await trond("migrate-state", "--from", f"sqlite:{source}", "--to", pg_url) == 0
    capsys.readouterr()
    assert await trond("migrate-state", "--from", f"sqlite:{source}", "--to", pg_url) == 1
    assert "is not empty (2 config_versions" in capsys.readouterr().err
    assert (
        await trond("migrate-state", "--from", f"sqlite:{source}", "--to", pg_url, "--force") == 0
    )
    assert "job_runs: 2" in capsys.readouterr().out
