"""The CLIs' alerting commands: `tronview --why/--history JOB`, `tronctl ack`, `tronctl
silence`. Clients of the HTTP API only."""

from __future__ import annotations

import argparse
import math
from typing import Any

from tron.cli.client import ApiClient, api_path
from tron.cli.common import resolve_id
from tron.cli.durations import parse_span


def format_why(body: dict[str, Any]) -> str:
    lines = [str(body["sentence"])]
    for key, value in sorted((body.get("evidence") or {}).items()):
        lines.append(f"  {key}: {value}")
    if body.get("silenced_until"):
        lines.append(f"  silenced until: {body['silenced_until']}")
    for alert in body.get("open_alerts") or []:
        acked = f" (acked by {alert['acked_by']})" if alert.get("acked_by") else ""
        lines.append(f"  open alert {alert['id']}: {alert['reason']}{acked}")
    return "\n".join(lines)


def format_history(body: dict[str, Any]) -> str:
    entries = body.get("history") or []
    if not entries:
        return "No commands recorded."
    rows = [f"{'When':<32} {'Who':<24} {'Target':<30} {'Command':<24} Result"]
    for e in entries:
        rows.append(
            f"{e['at']:<32} {e['who']:<24} {e['target']:<30} {e['command']:<24} {e['result']}"
        )
    return "\n".join(rows)


def why(client: ApiClient, job: str) -> str:
    return format_why(client.get(api_path("jobs", job, "why")))


def history(client: ApiClient, job: str, limit: int) -> str:
    return format_history(client.get(api_path("jobs", job, "history"), {"limit": limit}))


def ack(client: ApiClient, args: argparse.Namespace) -> int:
    for alert_id in args.id:
        print(client.post("/api/alerts/ack", {"alert": alert_id}).get("result"))
    return 0


def silence(client: ApiClient, args: argparse.Namespace) -> int:
    seconds = parse_span(args.duration)
    if math.isinf(seconds):
        raise ValueError("a silence needs an end: give --for a duration such as 2h")
    for name in args.id:
        job = resolve_id(client, name).job
        body = client.post(api_path("jobs", job, "silence"), {"for": str(int(seconds))})
        print(body.get("result"))
    return 0
