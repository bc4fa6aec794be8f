"""An upload you see before it happens: check on the server, show what it changes, ask before
removing jobs or MASTER settings (refuse without a terminal unless `--yes`), then apply.

`cat ops.yaml | tronfig -` still goes to MASTER as in Tron, but can no longer wipe it quietly.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from tron.cli import configs
from tron.cli.client import ApiClient
from tron.cli.confirm import ask
from tron.config.changes import ConfigChanges


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    check: bool = False  # `-C`: Tron's check; says what would change, applies nothing
    dry_run: bool = False
    yes: bool = False
    stdin_is_data: bool = False  # the config came on stdin: ask on the terminal instead


def removal_text(changes: ConfigChanges) -> str:
    parts = []
    if changes.removed:
        parts.append(f"jobs {', '.join(changes.removed)}")
    if changes.removed_settings:
        parts.append(f"MASTER settings {', '.join(changes.removed_settings)}")
    return " and ".join(parts)


def preview(client: ApiClient, source: configs.Source, config_hash: str) -> configs.Sent:
    """The server's check of `source`, with the changes worked out here if it gives none."""
    sent = configs.send(client, source, config_hash, check=True)
    if sent.rejection is None and sent.changes is None:
        current = client.config(source.namespace)
        old = configs.Source(
            namespace=source.namespace, file=source.file, text=str(current.get("config", ""))
        )
        return configs.Sent(changes=configs.local_changes(old, source))
    return sent


def confirmed(changes: ConfigChanges, options: Options) -> bool:
    """True to go ahead; a refusal or a "no" is printed here."""
    if not changes.is_destructive or options.yes:
        return True
    removing = removal_text(changes)
    answer = ask(
        f"This removes {removing} from the running config. Apply?",
        stdin_is_data=options.stdin_is_data,
    )
    if answer is None:
        print(
            f"Refused: this upload would remove {removing}; no terminal to confirm on. "
            "Pass --yes to upload anyway.",
            file=sys.stderr,
        )
        return False
    if not answer:
        print("Not applied.", file=sys.stderr)
    return answer


def show(changes: ConfigChanges | None) -> None:
    if changes is not None:
        print("\n".join(changes.lines()))


def upload_source(client: ApiClient, source: configs.Source, options: Options) -> int:
    """Check, show, confirm, apply. Exit 0 when done (or only asked to look), 1 otherwise."""
    config_hash = str(client.config(source.namespace).get("hash", ""))
    sent = preview(client, source, config_hash)
    if sent.rejection is not None:
        configs.print_problems(sent.rejection)
        return 1
    show(sent.changes)
    if options.check:
        print(configs.UPLOADED, file=sys.stderr)
        return 0
    if options.dry_run:
        print("Dry run: nothing was changed.")
        return 0
    if sent.changes is not None and not confirmed(sent.changes, options):
        return 1
    applied = configs.send(client, source, config_hash, check=False)
    if applied.rejection is not None:
        configs.print_problems(applied.rejection)
        return 1
    print(configs.UPLOADED, file=sys.stderr)
    if applied.changes is not None and applied.changes.version is not None:
        print(
            f"Applied to namespace {source.namespace} as config version {applied.changes.version}"
        )
    return 0
