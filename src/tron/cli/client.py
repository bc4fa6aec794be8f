"""ApiClient: trond's HTTP API (spec 8) as typed methods, every path element percent-encoded."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from tron import __version__
from tron.errors import TronError

Json = dict[str, Any]
USER_AGENT = f"Tron Command/{__version__} +http://github.com/Yelp/Tron"


class ServerUnreachableError(TronError):
    """trond could not be reached at all (refused, timed out, bad address)."""

    def __init__(self, server: str, reason: str) -> None:
        self.server = server
        self.reason = reason
        super().__init__(f"Error connecting to the tron server ({server}): {reason}")


class RequestError(TronError):
    """trond answered with an HTTP error; `message` is its `error` text, `body` its JSON."""

    def __init__(self, status: int, message: str, body: Json | None = None) -> None:
        self.status = status
        self.message = message
        self.body = body or {}
        super().__init__(message)


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputChunk:
    """A piece of an action run's output from byte `offset` on; `done` once it has ended."""

    data: str
    offset: int
    done: bool


def api_path(*parts: str | int) -> str:
    """`/api/jobs/<a>/<b>`: each element quoted on its own, so `/`, `%` and UTF-8 survive."""
    return "/api/" + "/".join(quote(str(part), safe="") for part in parts)


def flag(value: bool) -> str:
    return "1" if value else "0"


def parse_body(response: httpx.Response) -> Json:
    if not response.content:
        return {}
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {"error": response.text.strip()}
    return data if isinstance(data, dict) else {"response": data}


def error_of(response: httpx.Response, body: Json) -> RequestError:
    message = body.get("error") or response.reason_phrase or f"HTTP {response.status_code}"
    return RequestError(response.status_code, str(message), body)


class ApiClient:
    """A synchronous client of trond; raises ServerUnreachableError or RequestError."""

    def __init__(
        self,
        server: str,
        *,
        token: str | None = None,
        user_agent: str = USER_AGENT,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"User-Agent": user_agent}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.server = server
        self._http = httpx.Client(
            base_url=server, headers=headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> Json:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ServerUnreachableError(self.server, str(exc) or type(exc).__name__) from exc
        except httpx.InvalidURL as exc:
            raise ServerUnreachableError(self.server, str(exc)) from exc
        body = parse_body(response)
        if response.is_error:
            raise error_of(response, body)
        return body

    def get(self, path: str, params: Mapping[str, str | int] | None = None) -> Json:
        ordered = sorted((params or {}).items())
        return self._send("GET", path, params=ordered)

    def post(self, path: str, data: Mapping[str, str]) -> Json:
        return self._send("POST", path, data=dict(data))

    # Read endpoints

    def status(self) -> Json:
        return self.get("/api/status")

    def index(self) -> Json:
        return self.get("/api")

    def jobs(self, *, include_job_runs: bool = False) -> list[Json]:
        params = {
            "include_job_runs": flag(include_job_runs),
            "include_action_runs": "0",
            "include_action_graph": "0",
            "include_node_pool": "0",
        }
        jobs = self.get("/api/jobs", params).get("jobs") or []
        return [job for job in jobs if isinstance(job, dict)]

    def job(self, job: str, *, num_runs: int | None = None, action_runs: bool = False) -> Json:
        params: dict[str, str | int] = {"include_action_runs": flag(action_runs)}
        if num_runs is not None:
            params["num_runs"] = num_runs
        return self.get(api_path("jobs", job), params)

    def job_run(self, job: str, run: str | int, *, action_runs: bool = True) -> Json:
        params = {"include_action_runs": flag(action_runs), "include_action_graph": "0"}
        return self.get(api_path("jobs", job, run), params)

    def action_run(
        self,
        job: str,
        run: str | int,
        action: str,
        *,
        num_lines: int | None = None,
        output: bool = True,
    ) -> Json:
        params: dict[str, str | int] = {
            "include_stdout": flag(output),
            "include_stderr": flag(output),
        }
        if num_lines is not None:
            params["num_lines"] = num_lines
        return self.get(api_path("jobs", job, run, action), params)

    def action_output(
        self,
        job: str,
        run: str | int,
        action: str,
        *,
        stream: str,
        offset: int,
        attempt: int | None = None,
    ) -> OutputChunk | None:
        """The output endpoint of our trond (of one attempt, by default the current one); None
        when the server has none (Yelp's Tron)."""
        params: dict[str, str | int] = {"stream": stream, "offset": offset}
        if attempt is not None:
            params["attempt"] = attempt
        try:
            body = self.get(api_path("jobs", job, run, action, "output"), params)
        except RequestError as exc:
            if exc.status in (404, 405, 501):
                return None
            raise
        if "data" not in body:
            return None
        next_offset = int(body.get("offset", offset))
        return OutputChunk(data=str(body["data"]), offset=next_offset, done=bool(body.get("done")))

    def config(self, name: str) -> Json:
        return self.get("/api/config", {"name": name})

    def events(self) -> Json:
        return self.get("/api/events")

    # Write endpoints

    def command(self, parts: Sequence[str | int], command: str, **params: str) -> Json:
        """POST `command=<command>` to `/api/jobs/<parts...>` (job, job run or action run)."""
        return self.post(api_path("jobs", *parts), {"command": command, **params})

    def move_job(self, old_name: str, new_name: str) -> Json:
        data = {"command": "move", "old_name": old_name, "new_name": new_name}
        return self.post("/api/jobs", data)

    def upload_config(self, name: str, text: str, config_hash: str, *, check: bool = False) -> Json:
        data = {"name": name, "config": text, "hash": config_hash, "check": flag(check)}
        return self.post("/api/config", data)

    def event_command(self, command: str, event: str) -> Json:
        return self.post("/api/events", {"command": command, "event": event})
