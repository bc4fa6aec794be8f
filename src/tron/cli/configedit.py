"""`tronfig --edit NS`: edit a namespace in $EDITOR, review the job diff, apply or re-edit."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from tron.cli import configs
from tron.cli.client import ApiClient, RequestError
from tron.cli.configupload import preview, show


def editor_command() -> list[str]:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    return shlex.split(editor)


def run_editor(namespace: str, text: str) -> str:
    """Open `text` in the user's editor; returns the saved text."""
    with tempfile.TemporaryDirectory(prefix="tronfig-") as folder:
        path = Path(folder) / f"{namespace}.yaml"
        path.write_text(text, encoding="utf-8")
        subprocess.run([*editor_command(), str(path)], check=True)
        return path.read_text(encoding="utf-8")


def ask(question: str) -> bool:
    try:
        return input(f"{question} (y/n): ").strip().lower() == "y"
    except EOFError:
        return False


def review(client: ApiClient, new: configs.Source, config_hash: str) -> bool:
    """Validate the edit here, then have the server check it and say what it changes."""
    new_config, problems = configs.validate(new)
    if new_config is None:
        configs.print_problems(problems)
        return False
    sent = preview(client, new, config_hash)
    if sent.rejection is not None:
        configs.print_problems(sent.rejection)
        return False
    show(sent.changes)
    return True


def edit_namespace(client: ApiClient, namespace: str) -> int:
    """The edit loop: edit, validate, diff, confirm, upload; problems offer a re-edit."""
    current = client.config(namespace)
    old = configs.Source(
        namespace=namespace, file=f"{namespace}.yaml", text=str(current.get("config", ""))
    )
    text = old.text
    while True:
        text = run_editor(namespace, text)
        if text == old.text:
            print("No changes.")
            return 0
        new = configs.Source(namespace=namespace, file=old.file, text=text)
        if review(client, new, str(current.get("hash", ""))):
            if not ask("Apply these changes?"):
                print("Not applied.")
                return 1
            rejection = apply(client, new, str(current.get("hash", "")))
            if rejection is None:
                print(configs.UPLOADED, file=sys.stderr)
                return 0
            configs.print_problems(rejection)
        if not ask("Edit again?"):
            return 1


def apply(client: ApiClient, source: configs.Source, config_hash: str) -> str | None:
    # The hash read before editing: a change made meanwhile by someone else is refused.
    try:
        client.upload_config(source.namespace, source.text, config_hash)
    except RequestError as exc:
        return configs.server_problems(exc)
    return None
