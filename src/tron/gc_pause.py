"""Pausing the cyclic garbage collector while many long-lived objects are built at once."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No collections inside the block (it is re-enabled after, if it was on).

    Allocations trigger collections that walk every young object again and again: building a
    big config or loading a long history this way is superlinear (8,000 jobs took 6 s instead
    of 2 s). What is built there holds no reference cycles worth collecting early.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
