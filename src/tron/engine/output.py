"""Reading action output files: the last lines, or the bytes after an offset (for tailing)."""

from __future__ import annotations

import os
from pathlib import Path

_CHUNK = 64 * 1024


def tail_lines(path: Path, count: int) -> list[str]:
    """The last `count` lines of a file (all of them when count is 0 or less), decoded."""
    try:
        size = path.stat().st_size
    except OSError:
        return []
    with path.open("rb") as handle:
        if count <= 0:
            data = handle.read()
        else:
            data = b""
            position = size
            while position > 0 and data.count(b"\n") <= count:
                step = min(_CHUNK, position)
                position -= step
                handle.seek(position)
                data = handle.read(step) + data
    lines = data.decode("utf-8", errors="replace").splitlines()
    return lines[-count:] if count > 0 else lines


def read_from(path: Path, offset: int, limit: int = 1024 * 1024) -> tuple[str, int]:
    """Up to `limit` bytes from `offset`, cut at the last whole UTF-8 character; next offset."""
    try:
        with path.open("rb") as handle:
            handle.seek(max(offset, 0), os.SEEK_SET)
            data = handle.read(limit)
    except OSError:
        return "", offset
    cut = len(data)
    # Never split a multi-byte character: back up to a character boundary.
    while cut > 0 and len(data) == limit and (data[cut - 1] & 0xC0) == 0x80:
        cut -= 1
    if cut and len(data) == limit and data[cut - 1] >= 0xC0:
        cut -= 1
    data = data[:cut]
    return data.decode("utf-8", errors="replace"), max(offset, 0) + len(data)
