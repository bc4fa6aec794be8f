"""Foreign Host names and cross-origin state changes are refused; CLIs and the UI still work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import pytest_asyncio

from tests.integration.conftest import Harness, write_config
from tron.api.app import create_app
from tron.api.site import SitePolicy
from tron.engine.daemon import Daemon

pytestmark = pytest.mark.asyncio(loop_scope="module")

MASTER = """
time_zone: UTC
jobs:
  hello:
    node: localhost
    schedule: "cron 0 4 * * *"
    actions:
      say: {command: "echo hello"}
"""
ATTACK = """
jobs:
  pwn:
    node: localhost
    schedule: "cron 0 4 * * *"
    actions:
      x: {command: "echo pwned"}
"""
PORT = 8089
OWN = f"http://127.0.0.1:{PORT}"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def daemon(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Daemon]:
    harness = Harness(tmp_path_factory.mktemp("guard"))
    write_config(harness.config_dir, MASTER)
    async with harness.running() as h:
        assert h.daemon is not None
        yield h.daemon


@asynccontextmanager
async def client(
    daemon: Daemon, site: SitePolicy, base: str = OWN, token: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(daemon, site=site, token=token))
    async with httpx.AsyncClient(transport=transport, base_url=base) as http:
        yield http


LOOPBACK = SitePolicy.serving("127.0.0.1", PORT)


async def test_loopback_names_on_the_serving_port_are_served(daemon: Daemon) -> None:
    for host in (f"127.0.0.1:{PORT}", f"localhost:{PORT}", f"[::1]:{PORT}", f"LOCALHOST:{PORT}"):
        async with client(daemon, LOOPBACK) as http:
            response = await http.get("/api/status", headers={"Host": host})
            assert response.status_code == 200, host


@pytest.mark.parametrize(
    "host",
    [
        f"evil.example:{PORT}",
        "evil.example",
        f"127.0.0.1.evil.example:{PORT}",
        f"localhost.evil.example:{PORT}",
        "127.0.0.1:9999",
        "localhost",  # port 80 implied
        f"localhost:{PORT}0",
        f"localhost:{PORT}:1",
        ":8089",
        "[::1",
        f"ünïcode.example:{PORT}".encode(),
    ],
)
async def test_foreign_host_is_refused_with_403_even_for_reads(
    daemon: Daemon, host: str | bytes
) -> None:
    async with client(daemon, LOOPBACK) as http:
        for method, path in (("GET", "/api/jobs"), ("POST", "/api/config"), ("GET", "/web/")):
            headers = {b"Host": host if isinstance(host, bytes) else host.encode()}
            response = await http.request(method, path, headers=headers)
            assert response.status_code == 403, (method, path, host)
            assert "--allowed-host" in response.json()["error"]


async def test_allowed_host_flag_adds_names(daemon: Daemon) -> None:
    site = SitePolicy.serving(
        "127.0.0.1", PORT, allowed_hosts=("tron.example.com", "ops.example:8443")
    )
    async with client(daemon, site) as http:
        ok = ["tron.example.com", "tron.example.com:443", "ops.example:8443", f"localhost:{PORT}"]
        for host in ok:
            assert (await http.get("/api/status", headers={"Host": host})).status_code == 200
        for host in ("ops.example", "ops.example:8089", "evil.example"):
            assert (await http.get("/api/status", headers={"Host": host})).status_code == 403


async def test_any_ip_literal_is_served_when_bound_to_every_interface(daemon: Daemon) -> None:
    site = SitePolicy.serving("0.0.0.0", PORT)
    async with client(daemon, site) as http:
        for host in ("10.1.2.3:8089", "[fe80::1]:8089", f"localhost:{PORT}"):
            assert (await http.get("/api/status", headers={"Host": host})).status_code == 200
        assert (await http.get("/api/status", headers={"Host": "evil.example"})).status_code == 403


async def test_bound_address_is_served(daemon: Daemon) -> None:
    site = SitePolicy.serving("10.0.0.7", PORT)
    async with client(daemon, site) as http:
        assert (await http.get("/api/status", headers={"Host": "10.0.0.7:8089"})).status_code == 200
        assert (await http.get("/api/status", headers={"Host": "10.0.0.8:8089"})).status_code == 403


FOREIGN_HEADERS = [
    {"Origin": "http://evil.example"},
    {"Origin": "http://127.0.0.1:9999"},  # another port is another origin
    {"Origin": "https://127.0.0.1:8089"},  # another scheme too
    {"Origin": "null"},  # sandboxed frames, file:// pages
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": OWN, "Sec-Fetch-Site": "cross-site"},
]


@pytest.mark.parametrize("headers", FOREIGN_HEADERS)
async def test_cross_origin_state_changes_are_refused_and_change_nothing(
    daemon: Daemon, headers: dict[str, str]
) -> None:
    form = {"name": "attack", "config": ATTACK}
    async with client(daemon, LOOPBACK) as http:
        for method, path, data in (
            ("POST", "/api/config", form),
            ("POST", "/api/jobs/MASTER.hello", {"command": "start"}),
            ("POST", "/api/jobs/MASTER.hello", {"command": "disable"}),
            ("POST", "/api/events", {"command": "publish", "event": "x"}),
            ("PUT", "/api/config", form),
            ("DELETE", "/api/config", form),
            ("PATCH", "/api/config", form),
        ):
            response = await http.request(method, path, data=data, headers=headers)
            assert response.status_code == 403, (method, path, response.text)
            assert "refused" in response.json()["error"]
            assert "access-control-allow-origin" not in response.headers
    assert "attack" not in daemon.config.namespaces
    assert list(daemon.registry.get_job("MASTER.hello").runs) == [0]  # only the scheduled one
    assert daemon.registry.get_job("MASTER.hello").enabled
    assert "x" not in daemon.published


async def test_same_origin_form_posts_work(daemon: Daemon) -> None:
    headers = {"Origin": OWN, "Sec-Fetch-Site": "same-origin"}
    async with client(daemon, LOOPBACK) as http:
        response = await http.post(
            "/api/jobs/MASTER.hello", data={"command": "disable"}, headers=headers
        )
        assert response.status_code == 200, response.text
        for origin in (f"http://localhost:{PORT}", "http://LOCALHOST:8089"):
            response = await http.post(
                "/api/jobs/MASTER.hello",
                data={"command": "enable"},
                headers={"Origin": origin, "Host": f"localhost:{PORT}"},
            )
            assert response.status_code == 200, response.text
    assert daemon.registry.get_job("MASTER.hello").enabled


async def test_clients_without_origin_headers_keep_working(daemon: Daemon) -> None:
    async with client(daemon, LOOPBACK) as http:
        for site in ({}, {"Sec-Fetch-Site": "none"}):
            response = await http.post(
                "/api/jobs/MASTER.hello", data={"command": "enable"}, headers=site
            )
            assert response.status_code == 200, response.text


async def test_cross_origin_reads_get_no_cors_header(daemon: Daemon) -> None:
    async with client(daemon, LOOPBACK) as http:
        for path in ("/api/jobs", "/api/status", "/api/nope", "/api/jobs/MASTER.hello"):
            response = await http.get(path, headers={"Origin": "http://evil.example"})
            assert "access-control-allow-origin" not in response.headers, path
        preflight = await http.options(
            "/api/config",
            headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in preflight.headers


async def test_cors_origin_flag_lets_only_that_origin_in(daemon: Daemon) -> None:
    ui = "https://ui.example.com"
    site = SitePolicy.serving("127.0.0.1", PORT, cors_origins=(ui + "/",))
    async with client(daemon, site) as http:
        read = await http.get("/api/status", headers={"Origin": ui})
        assert read.headers["access-control-allow-origin"] == ui
        preflight = await http.options(
            "/api/jobs/MASTER.hello",
            headers={
                "Origin": ui,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == ui
        command = await http.post(
            "/api/jobs/MASTER.hello",
            data={"command": "enable"},
            headers={"Origin": ui, "Sec-Fetch-Site": "cross-site"},
        )
        assert command.status_code == 200, command.text
        other = await http.get("/api/status", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        refused = await http.post(
            "/api/jobs/MASTER.hello",
            data={"command": "enable"},
            headers={"Origin": "https://evil.example"},
        )
        assert refused.status_code == 403
