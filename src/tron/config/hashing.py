"""The config hash Tron clients echo back on upload, to detect concurrent edits (spec 8.4)."""

from __future__ import annotations

import hashlib

import yaml

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def config_hash(text: str) -> str:
    """SHA-1 hex of the parsed YAML re-dumped with sorted keys, as Tron computes it.

    Comments and layout therefore do not change the hash. An empty (or missing) namespace hashes
    as the empty string; text that is not YAML hashes as itself.
    """
    try:
        data = yaml.load(text, Loader=_Loader)
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError):
        return _sha1(text)
    if data is None:
        return _sha1("")
    return _sha1(yaml.dump(data, Dumper=_Dumper))


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()
