"""Tron's JSON metrics of the API itself: `tron.site.Nxx` meters and a `tron.api.<route>` timer."""

from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

JsonObject = dict[str, Any]
# Tron's timers keep a sample reservoir; the last 1028 durations play that part here.
RESERVOIR = 1028
# Label values come from closed sets, so made-up methods cannot grow the metrics: a client
# chooses the method name, and every new name would otherwise be a new timer for ever.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER = "other"


def method_label(method: str) -> str:
    return method if method in METHODS else OTHER


@dataclass(slots=True)
class Meter:
    """A count and its mean rate; Tron's 1/5/15-minute rates are given as that mean rate."""

    started: float
    count: int = 0

    def json(self, name: str, now: float) -> JsonObject:
        rate = self.count / max(now - self.started, 1e-9)
        return {
            "name": name,
            "count": float(self.count),
            "m1_rate": rate,
            "m5_rate": rate,
            "m15_rate": rate,
        }


@dataclass(slots=True)
class Timer:
    """A meter plus the distribution of durations in milliseconds."""

    meter: Meter
    samples: deque[float] = field(default_factory=lambda: deque(maxlen=RESERVOIR))

    def json(self, name: str, now: float, method: str) -> JsonObject:
        values = sorted(self.samples) or [0.0]
        return {
            **self.meter.json(name, now),
            "mean": statistics.fmean(values),
            "min": values[0],
            "max": values[-1],
            **{f"p{q}": _percentile(values, q) for q in (50, 75, 95, 99)},
            "dimensions": {"method": method},
        }


def _percentile(ordered: list[float], q: int) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]


class SiteMeters:
    """What `/api/metrics` reports about the API's own requests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.meters: dict[str, Meter] = {}
        self.timers: dict[tuple[str, str], Timer] = {}

    def record(self, route: str | None, method: str, status: int, seconds: float) -> None:
        now = self.clock()
        # Statuses come from trond itself; the class keeps the label set small anyway.
        name = f"tron.site.{min(max(status // 100, 1), 5)}xx"
        self.meters.setdefault(name, Meter(started=now)).count += 1
        if route is not None:
            key = (route, method_label(method))
            timer = self.timers.setdefault(key, Timer(Meter(started=now)))
            timer.meter.count += 1
            timer.samples.append(seconds * 1000)

    def json(self) -> dict[str, list[JsonObject]]:
        now = self.clock()
        return {
            "meter": [meter.json(name, now) for name, meter in sorted(self.meters.items())],
            "timer": [
                timer.json(f"tron.api.{route}", now, method)
                for (route, method), timer in sorted(self.timers.items())
            ],
        }


class MeterMiddleware:
    """Times every HTTP request and counts its status class."""

    def __init__(self, app: ASGIApp, meters: SiteMeters) -> None:
        self.app = app
        self.meters = meters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            # The endpoint's name, never the raw path: one timer per route, not per URL.
            endpoint = scope.get("endpoint")
            route = getattr(endpoint, "__name__", None)
            took = time.perf_counter() - started
            self.meters.record(route, scope["method"], status["code"], took)
