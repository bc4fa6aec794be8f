"""`did you mean` for misspelt keys and names (`retrys` -> `retries`, `slwo` -> `slow`)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`; did you mean X?` (or `X or Y`) for close matches, else an empty string."""
    matches = difflib.get_close_matches(word, sorted(choices), n=2, cutoff=0.6)
    if not matches:
        return ""
    return f"; did you mean {' or '.join(matches)}?"
