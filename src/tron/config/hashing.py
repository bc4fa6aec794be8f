"""The config hash Tron clients echo back on upload, to detect concurrent edits (spec 8.4)."""

from __future__ import annotations

import hashlib
from functools import lru_cache

import yaml

from tron.config.limits import load_bounded
from tron.gc_pause import gc_paused

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@lru_cache(maxsize=64)
def config_hash(text: str) -> str:
    """SHA-1 hex of the parsed YAML re-dumped with sorted keys, as Tron computes it.

    Comments and layout therefore do not change the hash. An empty (or missing) namespace hashes
    as the empty string; text that is not YAML, or is past the YAML limits, hashes as itself.
    Cached: the daemon asks for the hash of the same namespace texts on every config read.
    """
    # The parsed tree of a big namespace is many small objects that all live until we are
    # done: collecting garbage meanwhile only re-walks them (seconds at 10,000 jobs).
    with gc_paused():
        return _hash(text)


def _hash(text: str) -> str:
    try:
        # Bounded: a namespace text is hashed before it is checked (on every config read).
        data = load_bounded(text)
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError):
        return _sha1(text)
    if data is None:
        return _sha1("")
    return _sha1(yaml.dump(data, Dumper=_Dumper))


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()
