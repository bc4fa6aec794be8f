"""Connection strings are shown without their password, wherever they come from."""

from __future__ import annotations

import pytest

from tron.errors import StoreError
from tron.store.dsn import masked, resolve, scrubbed


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://tron:s3cr%40t@db:5432/tron", "postgresql://tron:***@db:5432/tron"),
        ("postgres://u:pw@h/d?sslmode=require", "postgres://u:***@h/d?sslmode=require"),
        ("postgresql://u@h/d?password=pw&x=1", "postgresql://u@h/d?password=***&x=1"),
        ("host=db password=pw user=tron", "host=db password=*** user=tron"),
        ("host=db password='p w' user=tron", "host=db password=*** user=tron"),
        ("postgresql://h/d", "postgresql://h/d"),
    ],
)
def test_masked_hides_every_form_of_password(dsn: str, shown: str) -> None:
    assert masked(dsn) == shown


def test_scrubbed_removes_the_password_from_driver_messages() -> None:
    dsn = "postgresql://tron:hunter2@db/tron"
    message = f'connection to "{dsn}" failed: bad password hunter2'
    assert "hunter2" not in scrubbed(message, dsn)
    assert "postgresql://tron:***@db/tron" in scrubbed(message, dsn)


def test_resolve_prefers_the_config_then_the_environment() -> None:
    assert resolve("postgresql://a/b", {"TRON_DATABASE_URL": "postgresql://c/d"}) == (
        "postgresql://a/b"
    )
    assert resolve(None, {"TRON_DATABASE_URL": "postgresql://c/d"}) == "postgresql://c/d"
    with pytest.raises(StoreError, match=r"state_persistence\.connection"):
        resolve(None, {})
