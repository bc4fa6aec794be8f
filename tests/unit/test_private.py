"""File modes of trond's state: created exact, tightened only, shared directories left alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tron.private import (
    GROUP_READABLE,
    OWNER_ONLY,
    create_file,
    ensure_dir,
    file_mode_of,
    make_dir_like_parent,
    modes_for,
    tighten,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_modes_by_choice() -> None:
    assert modes_for(group_readable=False) == OWNER_ONLY
    assert modes_for(group_readable=True) == GROUP_READABLE
    assert (file_mode_of(0o700), file_mode_of(0o750)) == (0o600, 0o640)


def test_tighten_only_takes_bits_away(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("x")
    path.chmod(0o644)
    assert tighten(path, 0o600) == f"{path} 0644 -> 0600"
    path.chmod(0o400)
    assert tighten(path, 0o600) is None
    assert mode(path) == 0o400
    assert tighten(tmp_path / "absent", 0o600) is None


def test_ensure_dir_creates_exact_and_tightens_existing(tmp_path: Path) -> None:
    previous = os.umask(0o077)
    try:
        assert ensure_dir(tmp_path / "a" / "b", 0o750) is None
    finally:
        os.umask(previous)
    assert mode(tmp_path / "a" / "b") == 0o750
    (tmp_path / "a" / "b").chmod(0o777)
    assert ensure_dir(tmp_path / "a" / "b", 0o700) == f"{tmp_path / 'a' / 'b'} 0777 -> 0700"


def test_ensure_dir_leaves_a_shared_directory_alone(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    assert ensure_dir(shared, 0o700) is None
    assert mode(shared) == 0o1777


@pytest.mark.skipif(os.geteuid() != 0, reason="needs to own a directory as another user")
def test_ensure_dir_leaves_another_users_directory_alone(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir(mode=0o755)
    os.chown(other, 12345, 12345)
    assert ensure_dir(other, 0o700) is None
    assert mode(other) == 0o755


def test_new_directories_take_the_nearest_mode_capped_at_group_read(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    root.chmod(0o777)
    (root / "a").mkdir()  # made meanwhile by another launch
    deep = root / "a" / "b" / "c"
    assert make_dir_like_parent(deep) == 0o750
    assert [mode(p) for p in (deep.parent, deep)] == [0o750, 0o750]
    with pytest.raises(FileExistsError):
        make_dir_like_parent(deep)


def test_create_file_is_exact_and_empties(tmp_path: Path) -> None:
    path = tmp_path / "stdout"
    path.write_text("old")
    create_file(path, 0o640)
    assert (mode(path), path.read_text()) == (0o640, "")
