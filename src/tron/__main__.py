"""trond: the daemon's command line (Tron's flags), logging, signals and the HTTP server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import logging
import logging.config
import os
import secrets
import signal
import socket
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import uvicorn

from tron import __version__, sdnotify
from tron.api.app import create_app
from tron.api.site import SitePolicy
from tron.api.warm import warm_caches
from tron.engine.daemon import Daemon, DaemonSettings
from tron.engine.lockfile import DaemonLockedError
from tron.errors import ConfigError, StoreError
from tron.private import tighten

logger = logging.getLogger("tron.trond")

_LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
GRACE_SECONDS = 30


def build_parser() -> argparse.ArgumentParser:
    """trond's flags (Tron's, plus ours); each says its default in `--help`, and the README's
    table lists the same flags (a test checks both)."""
    parser = argparse.ArgumentParser(
        prog="trond",
        description="The tron scheduling daemon.",
        epilog="trond migrate-state --help: copy a state between stores, or import Tron's.",
    )
    parser.add_argument("--version", action="version", version=f"trond {__version__}")
    parser.add_argument(
        "-w",
        "--working-dir",
        default="/var/lib/tron/",
        help="state store, lock file and action output (default: %(default)s)",
    )
    parser.add_argument(
        "-c",
        "--config-path",
        default="config/",
        help="config directory, or one MASTER file; relative paths are taken in the working "
        "dir; created empty if missing (default: %(default)s)",
    )
    parser.add_argument(
        "--lock-file",
        default=None,
        help="a second trond with the same lock file is refused (default: WORKING_DIR/tron.lock)",
    )
    parser.add_argument(
        "--pid-file",
        default=None,
        help="deprecated alias of --lock-file (default: none)",
    )
    parser.add_argument(
        "--nodaemon",
        action="store_true",
        help="accepted for Tron compatibility; trond never forks (default: off)",
    )
    parser.add_argument(
        "-l",
        "--log-conf",
        default=None,
        help="a logging.config ini file (default: none; INFO and above on stderr)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="repeatable; -vv logs DEBUG (default: %(default)s, logging INFO)",
    )
    parser.add_argument("--debug", action="store_true", help="log DEBUG (default: off)")
    parser.add_argument(
        "-P",
        "--port",
        type=int,
        default=8089,
        help="port of the API and web UI (default: %(default)s)",
    )
    parser.add_argument(
        "-H",
        "--host",
        default="127.0.0.1",
        help="address the API and web UI listen on; beyond loopback the API needs a token "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--web-path",
        default=None,
        help="accepted for Tron compatibility; the UI ships inside tron (default: none)",
    )
    parser.add_argument(
        "--token",
        default=None,
        help="API bearer token, needed when bound beyond loopback (default: $TRON_API_TOKEN, "
        "else one created in WORKING_DIR/api_token)",
    )
    parser.add_argument(
        "--advertise-url",
        default=None,
        help="the URL of this trond's API as others reach it (standbys name the leader's) "
        "(default: http://HOST:PORT from -H and -P, the host's name for 0.0.0.0 or ::)",
    )
    parser.add_argument(
        "--group-readable",
        action="store_true",
        help="let the group read the state and action output (0750/0640) "
        "(default: off, owner only)",
    )
    parser.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME[:PORT]",
        help="another Host name the API answers to (DNS-rebinding guard); repeatable "
        "(default: none beyond localhost, 127.0.0.1, [::1] and the bound address)",
    )
    parser.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a web origin (https://host[:port]) allowed to use the API from its pages; "
        "repeatable (default: none)",
    )
    return parser


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.site = site_policy(args)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def site_policy(args: argparse.Namespace) -> SitePolicy:
    """The names trond answers to and the origins it trusts (raises ValueError if malformed)."""
    return SitePolicy.serving(
        args.host,
        args.port,
        allowed_hosts=tuple(args.allowed_host),
        cors_origins=tuple(args.cors_origin),
    )


def setup_logging(args: argparse.Namespace) -> None:
    if args.log_conf:
        logging.config.fileConfig(args.log_conf, disable_existing_loggers=False)
        return
    level = logging.WARNING
    if args.verbose or not args.debug:
        level = logging.INFO
    if args.debug or args.verbose >= 2:
        level = logging.DEBUG
    logging.basicConfig(level=level, format=_LOG_FORMAT, stream=sys.stderr)


def settings_from(args: argparse.Namespace) -> DaemonSettings:
    working_dir = Path(args.working_dir).resolve()
    config_path = Path(args.config_path)
    if not config_path.is_absolute():
        config_path = working_dir / config_path
    lock = args.lock_file or args.pid_file
    return DaemonSettings(
        working_dir=working_dir,
        config_path=config_path,
        lock_file=Path(lock) if lock else None,
        group_readable=args.group_readable,
        advertise_address=args.advertise_url or advertised(args.host, args.port),
    )


def advertised(host: str, port: int) -> str:
    """The URL other hosts reach this trond's API at (standbys tell it to clients)."""
    if host in ("0.0.0.0", "::", ""):
        host = socket.getfqdn()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def api_token(args: argparse.Namespace, working_dir: Path) -> str | None:
    """None on loopback; else the given token, or one kept in the working dir (mode 0600)."""
    if is_loopback(args.host):
        return None
    given: str | None = args.token or os.environ.get("TRON_API_TOKEN")
    if given:
        return given
    path = working_dir / "api_token"
    # A credential: owner-only even with --group-readable.
    changed = tighten(path, 0o600)
    if changed:
        logger.warning("made the API token private: %s", changed)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
        logger.warning("created API token in %s", path)
    return path.read_text().strip()


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling (trond owns the signals), which tells systemd
    once the API answers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            sdnotify.notify("READY=1\nSTATUS=scheduling; the API answers")


def _install_signals(daemon: Daemon, server: _Server) -> None:
    loop = asyncio.get_running_loop()
    received = {"count": 0}

    def on_signal(signum: int) -> None:
        received["count"] += 1
        if received["count"] > 1:
            logger.warning("second signal: exiting now")
            os._exit(1)
        logger.info("signal %s: stopping; running actions keep running", signum)
        sdnotify.notify("STOPPING=1")
        daemon.request_stop()
        server.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)


async def serve(args: argparse.Namespace) -> None:
    settings = settings_from(args)
    async with Daemon(settings) as daemon:
        token = api_token(args, settings.working_dir)
        app = create_app(daemon, token=token, site=args.site)
        config = uvicorn.Config(
            app,
            host=args.host,
            port=args.port,
            log_level="warning",
            lifespan="off",
            # Requests in flight (an upload) finish: streams end when trond stops, so only
            # a stuck request holds the exit, until this or a second signal.
            timeout_graceful_shutdown=GRACE_SECONDS,
        )
        server = _Server(config)
        _install_signals(daemon, server)
        logger.info("serving the API on http://%s:%d/", args.host, args.port)
        serving = asyncio.create_task(server.serve())
        warming = asyncio.create_task(warm_caches(app))
        stopping = asyncio.create_task(daemon.run_until_stopped())
        done, _ = await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        warming.cancel()
        await serving
        if serving in done and not stopping.done():
            stopping.cancel()


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    # A subcommand ahead of Tron's flags, which stay as they are.
    if given[:1] == ["migrate-state"]:
        return migrate_state(given[1:])
    args = parse_args(given)
    setup_logging(args)
    try:
        asyncio.run(serve(args))
    except DaemonLockedError as exc:
        logger.error("%s", exc)
        return 1
    except ConfigError as exc:
        logger.error("the config is invalid:\n%s", exc)
        return 1
    except StoreError as exc:
        logger.error("the state store cannot be used: %s", exc)
        return 1
    return 0


def migrate_state(argv: Sequence[str]) -> int:
    """`trond migrate-state --from sqlite:PATH --to postgresql://...` (or the other way), or
    `trond migrate-state --from-tron DIR`: import a Tron working dir into the configured store."""
    if any(a == "--from-tron" or a.startswith("--from-tron=") for a in argv):
        return migrate_from_tron(argv)
    parser = argparse.ArgumentParser(
        prog="trond migrate-state",
        description="Copy a whole tron state between stores (trond must not be running on "
        "either), then check the counts of every table.",
    )
    parser.add_argument("--from", dest="source", required=True, help="sqlite:PATH or a URL")
    parser.add_argument("--to", dest="target", required=True, help="postgresql://... or sqlite:")
    parser.add_argument("--force", action="store_true", help="replace what the target holds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=_LOG_FORMAT, stream=sys.stderr)
    try:
        copied = asyncio.run(_copy(args.source, args.target, force=args.force))
    except StoreError as exc:
        sys.stderr.write(f"trond migrate-state: {exc}\n")
        return 1
    sys.stdout.write("".join(f"{name}: {count}\n" for name, count in copied.items()))
    return 0


async def _copy(source: str, target: str, *, force: bool) -> dict[str, int]:
    # Here, not at the top: the database driver loads only when a database is used.
    from tron.store import transfer

    src, dst = transfer.open_location(source), transfer.open_location(target)
    await src.open()
    try:
        await dst.open()
        try:
            copied = await transfer.copy_state(src, dst, force=force)
        finally:
            await dst.close()
    finally:
        await src.close()
    sys.stdout.write(f"copied {transfer.describe(src)} to {transfer.describe(dst)}\n")
    return copied


def migrate_from_tron(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="trond migrate-state --from-tron",
        description="Import a Yelp Tron working dir's state (job flags, run history, events) "
        "into the store its config names (or --to); Tron's files are only read. A store that "
        "already holds state is left as it is.",
    )
    parser.add_argument("--from-tron", dest="working_dir", required=True, metavar="DIR")
    parser.add_argument("-c", "--config-path", default="config/", help="as trond's")
    parser.add_argument("--to", dest="target", default=None, help="sqlite:PATH or a URL")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=_LOG_FORMAT, stream=sys.stderr)
    try:
        message = asyncio.run(
            _import_tron(Path(args.working_dir).resolve(), args.config_path, args.target)
        )
    except (StoreError, ConfigError) as exc:
        sys.stderr.write(f"trond migrate-state: {exc}\n")
        return 1
    sys.stdout.write(message + "\n")
    return 0


async def _import_tron(working_dir: Path, config_path: str, target: str | None) -> str:
    # Here, not at the top: the database driver loads only when a database is used.
    from tron.engine.configstore import ConfigDir
    from tron.store import open_store, transfer
    from tron.store.tron_import import import_working_dir, tron_state_file

    path = Path(config_path)
    config = ConfigDir(path if path.is_absolute() else working_dir / path).load()
    persistence = config.state_persistence
    if tron_state_file(persistence, working_dir) is None:
        raise StoreError(
            f"no Tron state in {working_dir} (state_persistence {persistence.store_type!r}"
            f" named {persistence.name!r})"
        )
    store = transfer.open_location(target) if target else open_store(persistence, working_dir)
    await store.open()
    try:
        summary = await import_working_dir(store, working_dir, persistence, config)
    finally:
        await store.close()
    return str(summary) if summary else "the store already holds state: nothing imported"


if __name__ == "__main__":
    raise SystemExit(main())
