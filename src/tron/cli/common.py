"""What the three CLIs share: common flags (spec 7.1), the client they build, error exits."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable

import httpx

from tron import __version__
from tron.cli.client import USER_AGENT, ApiClient, RequestError, ServerUnreachableError
from tron.cli.clientconfig import ClientConfig, load_client_config, save_client_config
from tron.cli.resolve import TronId, UnknownIdentifierError, resolve_from_index

_LEVELS = (logging.ERROR, logging.WARNING, logging.INFO)


def add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", action="version", version=f"{parser.prog} {__version__}")
    add_verbose(parser)
    parser.add_argument("--server", help="URL of the tron server (default: from config)")
    parser.add_argument("--token", help="bearer token for a server that requires one")
    parser.add_argument("--cluster_name", help="name of the cluster (for display)")
    parser.add_argument(
        "-s", "--save", action="store_true", help="save server and options to ~/.tron"
    )


def add_verbose(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="Verbose logging (repeat for more)"
    )


def setup_logging(verbosity: int) -> None:
    level = _LEVELS[verbosity] if verbosity < len(_LEVELS) else logging.NOTSET
    logging.basicConfig(level=level, stream=sys.stdout, format="%(name)s %(levelname)s %(message)s")


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
