"""What tronctl does once its arguments are parsed: a client, then the command's handler."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import httpx

from tron import __version__
from tron.cli import alerting, commands
from tron.cli.common import client_settings, make_client, run_guarded

HANDLERS: dict[str, Callable[[commands.Context, argparse.Namespace], int]] = {
    "retry": commands.retry,
    "backfill": commands.backfill,
    "move": commands.move,
    "publish": commands.publish,
    "discard": commands.publish,
    "version": commands.version,
    "skip-and-publish": commands.skip_and_publish,
    "ack": lambda ctx, args: alerting.ack(ctx.client, args),
    "silence": lambda ctx, args: alerting.silence(ctx.client, args),
}


def run(args: argparse.Namespace, transport: httpx.BaseTransport | None) -> int:
    config = client_settings(args)
    handler = HANDLERS.get(args.command, commands.control)

    def body() -> int:
        with make_client(config, transport, with_user=True) as client:
            context = commands.Context(
                client=client, color=sys.stdout.isatty(), client_version=__version__
            )
            return handler(context, args)

    return run_guarded(body)
