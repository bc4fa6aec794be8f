"""Read a Berkeley DB hash file (Tron's `shelve` state) through Debian's `db5.3_dump -p`.

Python's own `dbm` cannot open it, and a C binding would be one more thing to build; the
dump tool prints every key/value pair, which is all an import needs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tron.errors import StoreError

DUMP_TOOLS = ("db5.3_dump", "db_dump")
_INSTALL_HINT = "install Debian's db5.3-util (apt-get install db5.3-util)"


def find_dump_tool() -> str:
    """The path of a Berkeley DB dump tool; StoreError (saying what to install) if none."""
    for name in DUMP_TOOLS:
        path = shutil.which(name)
        if path:
            return path
    raise StoreError(f"cannot read Tron's shelve state: no db5.3_dump on PATH; {_INSTALL_HINT}")


def read_pairs(path: Path, *, tool: str | None = None) -> dict[bytes, bytes]:
    """Every key/value pair of the hash file at `path`. The file is only read."""
    command = [tool or find_dump_tool(), "-p", str(path)]
    try:
        done = subprocess.run(command, capture_output=True, check=False, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StoreError(f"cannot run {command[0]}: {exc}") from exc
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise StoreError(f"{command[0]} cannot read {path}: {message}")
    return parse_printable(done.stdout)


def parse_printable(dump: bytes) -> dict[bytes, bytes]:
    """The pairs of a `db_dump -p` listing: a header up to HEADER=END, then one line per key
    and one per value (each starting with a space) up to DATA=END."""
    lines = dump.split(b"\n")
    try:
        start = lines.index(b"HEADER=END") + 1
    except ValueError:
        raise StoreError("not a db_dump -p listing (no HEADER=END)") from None
    body: list[bytes] = []
    for line in lines[start:]:
        if line == b"DATA=END":
            break
        if not line:
            continue  # the end of the output, or a blank line between pairs
        if not line.startswith(b" "):
            raise StoreError(f"unexpected line in db_dump listing: {line[:60]!r}")
        body.append(unescape(line[1:]))
    else:
        raise StoreError("db_dump listing ends without DATA=END (truncated?)")
    if len(body) % 2:
        raise StoreError("db_dump listing has a key without a value")
    return dict(zip(body[0::2], body[1::2], strict=True))


def unescape(text: bytes) -> bytes:
    """Undo the printable form: `\\\\` is a backslash, `\\xx` a byte in hex."""
    out = bytearray()
    i = 0
    while i < len(text):
        byte = text[i]
        if byte != 0x5C:  # not a backslash
            out.append(byte)
            i += 1
        elif text[i + 1 : i + 2] == b"\\":
            out.append(0x5C)
            i += 2
        else:
            pair = text[i + 1 : i + 3]
            try:
                out.append(int(pair, 16))
            except ValueError:
                raise StoreError(f"bad escape in db_dump listing: {pair!r}") from None
            i += 3
    return bytes(out)
