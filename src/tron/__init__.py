"""tron: a centralized batch-job scheduler compatible with Yelp's Tron."""

from __future__ import annotations

__version__ = "0.1.0"
