"""What the three CLIs share once they run a command: the client they build, error exits.

The flags themselves are in `options`, which stays light for `--help`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

import httpx

from tron.cli.client import USER_AGENT, ApiClient, RequestError, ServerUnreachableError
from tron.cli.clientconfig import ClientConfig, load_client_config, save_client_config
from tron.cli.resolve import TronId, UnknownIdentifierError, resolve_from_index


def client_settings(args: argparse.Namespace, *, color: bool | None = None) -> ClientConfig:
    config = load_client_config(
        server=args.server, token=args.token, color=color, cluster_name=args.cluster_name
    )
    if args.save:
        save_client_config(config, include_color=color is not None)
    return config


def user_agent(*, with_user: bool) -> str:
    if with_user:
        return f"{USER_AGENT} ({os.environ.get('USER', 'unknown')})"
    return USER_AGENT


def make_client(
    config: ClientConfig,
    transport: httpx.BaseTransport | None = None,
    *,
    with_user: bool = False,
) -> ApiClient:
    return ApiClient(
        config.server,
        token=config.token,
        transport=transport,
        user_agent=user_agent(with_user=with_user),
    )


def resolve_id(client: ApiClient, name: str) -> TronId:
    return resolve_from_index(name, client.index())


def run_guarded(body: Callable[[], int]) -> int:
    """Run a CLI body; an unreachable server or unknown id ends in one line, exit 1."""
    try:
        return body()
    except ServerUnreachableError as exc:
        print(exc, file=sys.stderr)
    except UnknownIdentifierError as exc:
        print(f"Error: {exc}")
    except RequestError as exc:
        print(f"Error: {exc.message}")
    except KeyboardInterrupt:
        return 130
    return 1
