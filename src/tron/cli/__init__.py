"""Tron's command-line clients: tronview, tronctl and tronfig, talking HTTP to trond only."""

from __future__ import annotations
