"""What tronfig does once its arguments are parsed: validate offline, or talk to trond."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import httpx

from tron.cli import configs
from tron.cli.client import ApiClient
from tron.cli.common import client_settings, make_client, run_guarded
from tron.cli.configedit import edit_namespace
from tron.cli.configupload import Options, preview, show, upload_source
from tron.config import validate_paths, validate_texts
from tron.config.model import MASTER, Config
from tron.errors import Problem

UNCHECKED = "nodes and command context not checked"
SKIPPED_NOTE = f"{UNCHECKED}: no MASTER given or found beside the file"


def master_beside(file: Path) -> Path | None:
    """The `MASTER.yaml` in the same directory as `file`, if there is one (and it is another
    file)."""
    candidate = file.parent / f"{MASTER}.yaml"
    try:
        if candidate.is_file() and not candidate.samefile(file):
            return candidate
    except OSError:
        return None
    return None


def validate_stdin(args: argparse.Namespace) -> tuple[Config | None, tuple[Problem, ...], str]:
    source = configs.read_source("-", args.namespace)
    alone = source.namespace != MASTER and args.master_config is None
    config, problems = validate_texts(
        {source.namespace: (source.file, source.text)}, master=args.master_config
    )
    return config, tuple(problems), f"{UNCHECKED}: no MASTER given (-m)" if alone else ""


def validate_file(args: argparse.Namespace) -> tuple[Config | None, tuple[Problem, ...], str]:
    """`-V FILE`: with `-m MASTER`, or the MASTER.yaml beside FILE, or alone (and say what
    that leaves unchecked)."""
    path = Path(args.source)
    master = args.master_config
    note = ""
    namespace = args.namespace or path.stem
    if master is None and namespace != MASTER and not path.is_dir():
        found = master_beside(path)
        if found is None:
            note = SKIPPED_NOTE
        else:
            master = str(found)
            note = f"with {found}"
    config, problems = validate_paths(args.source, master=master, namespace=args.namespace)
    return config, tuple(problems), note


def validate_offline(args: argparse.Namespace) -> int:
    """`-V`/`-D`: problems as `file:line: key.path: message` (exit 1), else `OK: ...`."""
    if args.source == "-":
        config, problems, note = validate_stdin(args)
    elif args.validate:
        config, problems, note = validate_file(args)
    else:
        found, more = validate_paths(args.source)
        config, problems, note = found, tuple(more), ""
    if problems or config is None:
        configs.print_problems(problems)
        return 1
    summary = configs.count_summary(config)
    print(f"{summary} ({note})" if note else summary)
    return 0


def upload(client: ApiClient, args: argparse.Namespace) -> int:
    try:
        source = configs.read_source(args.source, args.namespace)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"Error: cannot read {args.source}: {exc}", file=sys.stderr)
        return 1
    _, problems = configs.validate(source)
    if problems:
        configs.print_problems(problems)
        return 1
    options = Options(
        check=args.check,
        dry_run=args.dry_run,
        yes=args.yes,
        stdin_is_data=args.source == "-",
    )
    return upload_source(client, source, options)


def missing_namespace(client: ApiClient, namespace: str) -> bool:
    """True (and says so) when the server has no such namespace; Tron printed an empty one."""
    known = client.index().get("namespaces")
    if not isinstance(known, list) or namespace in known:
        return False
    listed = ", ".join(sorted(str(name) for name in known))
    print(f"Error: namespace {namespace} does not exist (namespaces: {listed})", file=sys.stderr)
    return True


def print_config(client: ApiClient, namespace: str) -> int:
    if missing_namespace(client, namespace):
        return 1
    sys.stdout.write(str(client.config(namespace).get("config", "")))
    return 0


def delete(client: ApiClient, namespace: str, *, yes: bool = False) -> int:
    """Tron's prompt, answered on stdin (`echo y | tronfig -d NS` works as in Tron)."""
    if namespace == MASTER:
        print("Deleting MASTER namespace is not allowed. Name must be specified.", file=sys.stderr)
        return 1
    if missing_namespace(client, namespace):
        return 1
    source = configs.Source(namespace=namespace, file=namespace, text="")
    config_hash = str(client.config(namespace).get("hash", ""))
    checked = preview(client, source, config_hash)
    if checked.rejection is not None:
        configs.print_problems(checked.rejection)
        print("tronfig deletion failed", file=sys.stderr)
        return 1
    show(checked.changes)
    if not yes:
        prompt = (
            f"This will delete the configuration for the {namespace} namespace. Proceed? (y/n): "
        )
        sys.stdout.write(prompt)
        sys.stdout.flush()
        answer = sys.stdin.readline()
        if not answer:
            print(
                f"\nRefused: no answer on stdin; {namespace} was not deleted. "
                "Pass --yes to delete without asking.",
                file=sys.stderr,
            )
            return 1
        if answer.strip() != "y":
            print(f"Not deleted: {namespace} is unchanged.", file=sys.stderr)
            return 1
    rejection = configs.send(client, source, config_hash, check=False).rejection
    if rejection is not None:
        configs.print_problems(rejection)
        print("tronfig deletion failed", file=sys.stderr)
        return 1
    print(configs.UPLOADED, file=sys.stderr)
    return 0


def dispatch(client: ApiClient, args: argparse.Namespace) -> int:
    if args.print_config:
        return print_config(client, args.source)
    if args.delete:
        return delete(client, args.source, yes=args.yes)
    if args.edit:
        return edit_namespace(client, args.source)
    return upload(client, args)


def run(args: argparse.Namespace, transport: httpx.BaseTransport | None) -> int:
    if args.validate or args.validate_dir:
        return validate_offline(args)
    config = client_settings(args)

    def body() -> int:
        with make_client(config, transport) as client:
            return dispatch(client, args)

    return run_guarded(body)
