"""A sample-backed fake trond (httpx.MockTransport) and helpers to read Tron's captures."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import httpx

SAMPLES = Path(__file__).parent / "samples"


def load(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


@dataclass(frozen=True, slots=True)
class Capture:
    """One CLI capture: the command line, the text printed and the exit status."""

    command: str
    text: str
    exit_code: int


def capture(name: str) -> Capture:
    lines = (SAMPLES / name).read_text(encoding="utf-8").split("\n")
    exit_line = max(i for i, line in enumerate(lines) if line.startswith("[exit "))
    text = "\n".join(lines[1:exit_line])
    return Capture(lines[0].removeprefix("$ "), text, int(lines[exit_line][6:-1]))


def runs_by_id() -> dict[str, Any]:
    jobs = load("api_jobs_include_runs.json")["jobs"]
    return {run["id"]: run for job in jobs for run in job["runs"] or []}


def default_routes() -> dict[str, Any]:
    routes: dict[str, Any] = {
        "/api": load("api_root.json"),
        "/api/status": load("api_status.json"),
        "/api/jobs": load("api_jobs.json"),
        "/api/jobs/demo.dag_job": load("api_job_dag.json"),
        "/api/jobs/demo.uni_ünïcode_job": load("api_job_unicode.json"),
        "/api/jobs/demo.dag_job/1/load": load("api_actionrun_dag_1_load_numlines.json"),
        "/api/jobs/demo.failing_job/1/boom": load("api_actionrun_failing_1_boom_numlines.json"),
        "/api/jobs/demo.failing_job/1/after_boom": load("api_actionrun_failing_1_after_boom.json"),
        "/api/jobs/demo.cleanup_job/1/cleanup": load(
            "api_actionrun_cleanup_1_cleanup_numlines.json"
        ),
    }
    # This capture was taken without include_stdout; give it the output tronview showed.
    routes["/api/jobs/demo.dag_job/1/load"].update(stdout=["loading", "loaded"], stderr=[])
    for run_id, run in runs_by_id().items():
        job, _, num = run_id.rpartition(".")
        routes[f"/api/jobs/{job}/{num}"] = run
    return routes


Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class FakeTron:
    """Answers GETs from `routes` and POSTs through `posts`; records every request."""

    routes: dict[str, Any] = field(default_factory=default_routes)
    posts: dict[str, Handler] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = unquote(request.url.path)
        if request.method == "POST":
            handler = self.posts.get(path)
            if handler is not None:
                return handler(request)
            return httpx.Response(501, json={"error": f"Unknown command for '{path}'"})
        body = self.routes.get(path)
        if callable(body):
            return body(request)  # type: ignore[no-any-return]
        if body is None:
            return httpx.Response(404, json={"error": f"Cannot find child '{path}'"})
        return httpx.Response(200, json=body)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def form(self, index: int = -1) -> dict[str, str]:
        posts = [r for r in self.requests if r.method == "POST"]
        return dict(parse_qsl(posts[index].content.decode()))
