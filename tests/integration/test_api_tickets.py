"""The token travels only in the Authorization header; the event stream opens with a ticket.

(The stream itself is read from a real trond in test_api_security.py: httpx's ASGI transport
waits for a whole body, and a stream has no end.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from tests.integration.conftest import Harness, write_config
from tron.api.app import create_app

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOKEN = "s3cret-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
MASTER = "time_zone: UTC\njobs: {}\n"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def http(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    harness = Harness(tmp_path_factory.mktemp("tickets"))
    write_config(harness.config_dir, MASTER)
    async with harness.running() as h:
        assert h.daemon is not None
        transport = httpx.ASGITransport(app=create_app(h.daemon, token=TOKEN))
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield client


async def test_token_in_the_query_string_is_refused(http: httpx.AsyncClient) -> None:
    for path in ("/api/status", "/api/jobs", "/api/stream"):
        response = await http.get(path, params={"token": TOKEN})
        assert response.status_code == 401, path


async def test_token_in_the_header_is_accepted(http: httpx.AsyncClient) -> None:
    assert (await http.get("/api/status", headers=BEARER)).status_code == 200


async def test_a_ticket_needs_the_token(http: httpx.AsyncClient) -> None:
    assert (await http.post("/api/stream/ticket")).status_code == 401
    response = await http.post("/api/stream/ticket", headers=BEARER)
    assert response.status_code == 200
    assert response.json()["expires_in"] == 60
    assert len(response.json()["ticket"]) >= 32


async def test_a_ticket_opens_nothing_but_the_stream(http: httpx.AsyncClient) -> None:
    ticket = (await http.post("/api/stream/ticket", headers=BEARER)).json()["ticket"]
    for path in ("/api/status", "/api/jobs", "/api/config"):
        assert (await http.get(path, params={"ticket": ticket})).status_code == 401
    response = await http.post("/api/stream", params={"ticket": ticket})
    assert response.status_code == 401


async def test_made_up_tickets_are_refused(http: httpx.AsyncClient) -> None:
    for ticket in ("", "x", "A" * 5000, TOKEN):
        response = await http.get("/api/stream", params={"ticket": ticket})
        assert response.status_code == 401
