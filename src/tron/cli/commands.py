"""What each tronctl command does once its arguments are parsed; one function per command."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import date

from tron.cli import backfill as backfill_mod
from tron.cli.client import ApiClient, Json, RequestError
from tron.cli.common import resolve_id
from tron.cli.render import Color, Style
from tron.cli.resolve import IdKind, TronId
from tron.cli.retry import RetryOptions, retry_all

ALL_KINDS = frozenset(IdKind)
RUNS = frozenset({IdKind.JOB_RUN, IdKind.ACTION_RUN})
TARGETS: dict[str, frozenset[IdKind]] = {
    "start": ALL_KINDS,
    "restart": frozenset({IdKind.JOB_RUN}),
    "rerun": frozenset({IdKind.JOB_RUN}),
    "recover": frozenset({IdKind.ACTION_RUN}),
    "cancel": RUNS,
    "disable": frozenset({IdKind.JOB}),
    "enable": frozenset({IdKind.JOB}),
    "fail": RUNS,
    "success": RUNS,
    "skip": frozenset({IdKind.ACTION_RUN}),
    "skip-and-publish": frozenset({IdKind.ACTION_RUN}),
    "stop": RUNS,
    "kill": frozenset({IdKind.ACTION_RUN}),
    "retry": frozenset({IdKind.ACTION_RUN}),
    "backfill": frozenset({IdKind.JOB}),
}
DISABLE_WARNING = (
    "WARNING: jobs disabled with tronctl disable are *NOT* guaranteed to stay disabled. "
    "You must disable the job in its config to guarantee it will not be re-enabled."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    client: ApiClient
    color: bool = False
    client_version: str = ""

    @property
    def style(self) -> Style:
        return Style(color=self.color)


class UsageError(Exception):
    """A command was given the wrong targets; its message is printed as `Error: ...`."""


# Exit statuses of all three CLIs: done, refused or failed (the message says why), misused.
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# Tron answers some refusals with 200 and a result text; our trond adds `"refused": true`.
# Tron's own trond does not, so against it the text's opening words are what there is.
_REFUSED_PREFIXES = ("Failed to ", "Error: ")


def refused(body: Json) -> bool:
    if "refused" in body:
        return body["refused"] is True
    return result_text(body).startswith(_REFUSED_PREFIXES)


def result_text(body: Json) -> str:
    return str(body.get("result", body.get("response", "OK")))


def targets(ctx: Context, args: argparse.Namespace) -> list[TronId]:
    if not args.id:
        raise UsageError("must provide at least one id argument")
    allowed = TARGETS[args.command]
    resolved = []
    for name in args.id:
        tid = resolve_id(ctx.client, name)
        if tid.kind not in allowed:
            kinds = " or ".join(sorted(allowed))
            article = "an" if kinds[0] in "aeiou" else "a"
            raise UsageError(f"{args.command} needs {article} {kinds}, but {name} is a {tid.kind}")
        resolved.append(tid)
    return resolved


def control(ctx: Context, args: argparse.Namespace) -> int:
    """The one-request commands: POST `command=<name>` to each target in turn; the first
    refusal stops there (Tron's rule) and exits 1, even when Tron answered it with 200."""
    try:
        resolved = targets(ctx, args)
    except UsageError as exc:
        print(f"Error: {exc}")
        return EXIT_USAGE
    params = {"run_time": args.run_date} if getattr(args, "run_date", None) else {}
    results: list[dict[str, object]] = []
    code = EXIT_OK
    for tid in resolved:
        try:
            body = ctx.client.command(tid.parts, args.command, **params)
        except RequestError as exc:
            if not args.json:
                raise
            body = {"result": f"Error: {exc.message}", "refused": True}
        text, ok = result_text(body), not refused(body)
        results.append({"id": str(tid), "command": args.command, "ok": ok, "result": text})
        if not args.json:
            print(text)
            if args.command == "disable" and ok:
                print(ctx.style.paint(DISABLE_WARNING, Color.RED))
        if not ok:
            code = EXIT_FAILED
            break
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    return code


def retry(ctx: Context, args: argparse.Namespace) -> int:
    try:
        resolved = targets(ctx, args)
    except UsageError as exc:
        print(f"Error: {exc}")
        return EXIT_USAGE
    options = RetryOptions(
        use_latest_command=args.use_latest_command,
        wait_seconds=args.wait_for_deps,
        poll_interval=args.poll_interval,
    )
    return retry_all(ctx.client, resolved, options, style=ctx.style)


def skip_and_publish(ctx: Context, args: argparse.Namespace) -> int:
    try:
        resolved = targets(ctx, args)
    except UsageError as exc:
        print(f"Error: {exc}")
        return EXIT_USAGE
    return max(skip_then_publish(ctx.client, tid) for tid in resolved)


def skip_then_publish(client: ApiClient, tid: TronId) -> int:
    print(f"Skipping {tid}...")
    try:
        print(result_text(client.command(tid.parts, "skip")))
    except RequestError as exc:
        print(f"Error: {exc.message}\n\nFailed to skip {tid}!")
        return 1
    print(f"Successfully skipped {tid}.")
    print(f"\nFetching triggers to publish for {tid}...")
    body = client.action_run(tid.job, str(tid.run), str(tid.action), num_lines=1)
    # The API lists `key.value`s (Tron's wire); the event id prefixes the action's full name.
    listed = [t.strip() for t in str(body.get("trigger_downstreams") or "").split(",")]
    triggers = [f"{tid.job}.{tid.action}.{t}" for t in listed if t]
    if not triggers:
        print(f"{tid} has no triggers to publish - just skipping instead.")
        return 0
    print("\nTriggers to publish:")
    print("\n".join(f"    * {trigger}" for trigger in triggers))
    return max(publish_one(client, trigger) for trigger in triggers)


def publish_one(client: ApiClient, trigger: str) -> int:
    print(f"Publishing trigger {trigger}...")
    try:
        print(result_text(client.event_command("publish", trigger)))
    except RequestError as exc:
        print(f"Error: {exc.message}")
        print(
            f"Failed to publish trigger {trigger} - you may want to retry this command "
            "or manually publish the trigger!"
        )
        return 1
    return 0


def event_warning(event: str) -> str | None:
    parts = event.split(".")
    shape = "<namespace>.<job>.<action>.<key>.<value>"
    if len(parts) != 5:
        return f"Warning: {event} has {len(parts)} dot-separated parts; event ids are {shape}."
    if parts[2].isdigit():
        return (
            f"Warning: the third part of {event} is a number, like a run id; "
            f"event ids name the action: {shape}."
        )
    return None


def publish(ctx: Context, args: argparse.Namespace) -> int:
    """`publish`/`discard EVENT...`: warn on odd-looking ids, send them anyway."""
    if not args.id:
        print("Error: must provide at least one id argument")
        return 1
    for event in args.id:
        warning = event_warning(event)
        if warning:
            print(Style(color=sys.stderr.isatty()).paint(warning, Color.YELLOW), file=sys.stderr)
        print(result_text(ctx.client.event_command(args.command, event)))
    return 0


def move(ctx: Context, args: argparse.Namespace) -> int:
    if len(args.id) != 2:
        print(f"Error: Move command needs two arguments.\n{' '.join(args.id)}")
        return 1
    old, new = args.id
    jobs = set(ctx.client.index().get("jobs") or {})
    if old not in jobs:
        print(f"Error: {old} doesn't exist")
        return 1
    if new in jobs:
        print(f"Error: {new} exists already")
        return 1
    print(result_text(ctx.client.move_job(old, new)))
    return 0


def version(ctx: Context, args: argparse.Namespace) -> int:
    server = str(ctx.client.status().get("version") or "unknown")
    print(f"Tron client version: {ctx.client_version}")
    print(f"Tron server version: {server}")
    if server != ctx.client_version:
        print("Warning: client and server versions should match")
        return 1
    return 0


def backfill_dates(args: argparse.Namespace, today: date) -> list[date]:
    if args.dates:
        return backfill_mod.parse_date_list(args.dates)
    if not args.start_date:
        raise UsageError("one of --start-date or --dates is required")
    start = date.fromisoformat(args.start_date)
    end = date.fromisoformat(args.end_date) if args.end_date else today
    return backfill_mod.date_range(start, end, descending=args.descending)


def backfill(ctx: Context, args: argparse.Namespace, *, today: date | None = None) -> int:
    """Backfill the first id over the requested dates (after confirmation unless --yes)."""
    if args.max_parallel > backfill_mod.MAX_PARALLEL:
        print(
            "The flag --max-parallel exceeds the allowed limit of 10. Please reach out to "
            "the Tron team if you need to run backfills with higher limits."
        )
        return 1
    try:
        dates = backfill_dates(args, today or date.today())
        job = targets(ctx, args)[0].job
    except (UsageError, ValueError) as exc:
        print(f"Error: {exc}")
        return EXIT_USAGE
    if args.dry_run:
        print(backfill_mod.dry_run_text(job, dates))
        return 0
    if not args.yes and not confirm(backfill_mod.confirmation_text(job, dates)):
        print("Aborted.")
        return 1
    runner = backfill_mod.Backfill(
        client=ctx.client,
        job=job,
        max_parallel=args.max_parallel,
        fail_on_error=args.fail_on_error,
        poll_interval=args.poll_interval,
    )
    runs = runner.run(dates)
    print(backfill_mod.summary(runs, ctx.style))
    return 0 if all(run.is_ok for run in runs) else 1


def confirm(text: str) -> bool:
    print(text)
    try:
        answer = input("Confirm? [y/n] ")
    except EOFError:
        return False
    return answer.strip() in ("y", "Y")
