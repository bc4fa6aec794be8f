"""posix_spawn called through libc, so that the calling thread lets go of the GIL meanwhile.

`os.posix_spawnp` keeps the GIL while the child is made and execs (glibc's posix_spawn
suspends the caller until then). On a launch thread that stalls the event loop and the store
worker for the whole exec: a quarter of the daemon's Python time during a burst of launches,
up to 10 ms a launch on a busy machine. A ctypes call releases the GIL for its duration.

Only what the local runner needs is offered: open and dup2 file actions (in the tuples
os.posix_spawnp takes, so one list serves either call), a new session, an empty
signal mask and some signals set back to their defaults. `available()` says whether this libc
has it all (glibc does; elsewhere the caller falls back to `os.posix_spawnp`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

# glibc's flag values (spawn.h); POSIX_SPAWN_SETSID is a GNU extension.
_SETSIGDEF = 0x04
_SETSIGMASK = 0x08
_SETSID = 0x80
# Generous sizes for glibc's opaque structures (80, 336 and 128 bytes on x86-64).
_FILE_ACTIONS_SIZE = 512
_ATTR_SIZE = 1024
_SIGSET_SIZE = 256


# The file actions, as os.posix_spawnp takes them: (POSIX_SPAWN_OPEN, fd, path, flags, mode)
# or (POSIX_SPAWN_DUP2, fd, new_fd).
FileAction = tuple[Any, ...]


def _load() -> Any:
    try:
        # The process's own symbols, libc's among them (no search for the library file).
        libc = ctypes.CDLL(None, use_errno=True)
        for symbol in (
            "posix_spawnp",
            "posix_spawn_file_actions_init",
            "posix_spawn_file_actions_destroy",
            "posix_spawn_file_actions_addopen",
            "posix_spawn_file_actions_adddup2",
            "posix_spawnattr_init",
            "posix_spawnattr_destroy",
            "posix_spawnattr_setflags",
            "posix_spawnattr_setsigmask",
            "posix_spawnattr_setsigdefault",
            "sigemptyset",
            "sigaddset",
        ):
            getattr(libc, symbol)
    except (OSError, AttributeError):
        return None
    libc.posix_spawnattr_setflags.argtypes = [ctypes.c_void_p, ctypes.c_short]
    return libc


_LIBC = _load() if os.uname().sysname == "Linux" else None


def available() -> bool:
    """Whether `spawnp` can be used here (Linux with a libc that has posix_spawn's family)."""
    return _LIBC is not None


def _strings(items: Iterable[bytes]) -> Any:
    values = list(items)
    if any(b"\0" in value for value in values):
        # A C string ends at its first NUL: refuse, as os.posix_spawnp does, not truncate.
        raise ValueError("embedded null byte")
    return (ctypes.c_char_p * (len(values) + 1))(*values, None)


def _sigset(libc: Any, signals: Iterable[int]) -> ctypes.Array[ctypes.c_char]:
    sigset = ctypes.create_string_buffer(_SIGSET_SIZE)
    libc.sigemptyset(sigset)
    for signum in signals:
        libc.sigaddset(sigset, int(signum))
    return sigset


# posix_spawn only reads its attributes and file actions, so one built object serves every
# launch that wants the same, from any thread: a launch then makes one call into libc rather than
# fifteen (each one a release and a retake of the GIL). They are built once and never destroyed.
# Attributes differ only by the set of default signals (a caller uses one or two). File actions
# differ by the pipe's descriptor, so there are about as many as descriptors open at once; past
# _MAX_CACHED a launch builds its own and destroys it after.
_MAX_CACHED = 1024
_attributes: dict[frozenset[int], ctypes.Array[ctypes.c_char]] = {}
_file_actions: dict[tuple[FileAction, ...], ctypes.Array[ctypes.c_char]] = {}


def _attributes_for(libc: Any, default_signals: frozenset[int]) -> ctypes.Array[ctypes.c_char]:
    cached = _attributes.get(default_signals)
    if cached is not None:
        return cached
    attributes = ctypes.create_string_buffer(_ATTR_SIZE)
    _check(libc.posix_spawnattr_init(attributes))
    try:
        _check(libc.posix_spawnattr_setflags(attributes, _SETSID | _SETSIGMASK | _SETSIGDEF))
        _check(libc.posix_spawnattr_setsigmask(attributes, _sigset(libc, ())))
        _check(libc.posix_spawnattr_setsigdefault(attributes, _sigset(libc, default_signals)))
    except OSError:
        libc.posix_spawnattr_destroy(attributes)
        raise
    return _keep(_attributes, default_signals, attributes, libc.posix_spawnattr_destroy)


@contextlib.contextmanager
def _file_actions_for(
    libc: Any, file_actions: tuple[FileAction, ...]
) -> Iterator[ctypes.Array[ctypes.c_char]]:
    cached = _file_actions.get(file_actions)
    if cached is not None:
        yield cached
        return
    actions = ctypes.create_string_buffer(_FILE_ACTIONS_SIZE)
    _check(libc.posix_spawn_file_actions_init(actions))
    try:
        for action in file_actions:
            _add(libc, actions, action)
    except (OSError, ValueError):
        libc.posix_spawn_file_actions_destroy(actions)
        raise
    if len(_file_actions) < _MAX_CACHED:
        yield _keep(_file_actions, file_actions, actions, libc.posix_spawn_file_actions_destroy)
        return
    try:
        yield actions
    finally:
        libc.posix_spawn_file_actions_destroy(actions)


def _keep(
    cache: dict[Any, ctypes.Array[ctypes.c_char]],
    key: object,
    built: ctypes.Array[ctypes.c_char],
    destroy: Any,
) -> ctypes.Array[ctypes.c_char]:
    # Two threads may build the same at once: both use the one kept, the other is undone.
    kept = cache.setdefault(key, built)
    if kept is not built:
        destroy(built)
    return kept


def spawnp(
    argv: Sequence[str],
    env: Sequence[bytes],
    *,
    file_actions: Sequence[FileAction],
    default_signals: Iterable[int],
) -> int:
    """Start `argv` (found on PATH) with the KEY=VALUE entries `env` in a new session, with an
    empty signal mask and `default_signals` at their default action; return its pid. Raises
    OSError as `os.posix_spawnp` would."""
    if _LIBC is None:
        raise OSError("posix_spawn through libc is not available here")
    libc = _LIBC
    attributes = _attributes_for(libc, frozenset(int(s) for s in default_signals))
    program = os.fsencode(argv[0])
    arguments = _strings(os.fsencode(arg) for arg in argv)
    environment = _strings(env)
    pid = ctypes.c_int()
    with _file_actions_for(libc, tuple(file_actions)) as actions:
        # The call that matters: ctypes releases the GIL until the child has exec'd.
        _check(
            libc.posix_spawnp(
                ctypes.byref(pid), program, actions, attributes, arguments, environment
            )
        )
    return pid.value


def _add(libc: Any, actions: ctypes.Array[ctypes.c_char], action: FileAction) -> None:
    kind, fd, *rest = action
    if kind == os.POSIX_SPAWN_OPEN:
        path, flags, mode = rest
        _check(libc.posix_spawn_file_actions_addopen(actions, fd, os.fsencode(path), flags, mode))
    elif kind == os.POSIX_SPAWN_DUP2:
        _check(libc.posix_spawn_file_actions_adddup2(actions, fd, *rest))
    else:
        raise ValueError(f"unsupported file action {action!r}")


def _check(code: int) -> None:
    # The posix_spawn family returns an error number rather than setting errno.
    if code != 0:
        raise OSError(code, os.strerror(code))
