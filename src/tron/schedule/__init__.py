"""Schedules: cron, daily and groc ("every ... at ...") forms with Tron's DST rules."""

from __future__ import annotations

from tron.schedule.base import Schedule
from tron.schedule.parse import parse_schedule

__all__ = ["Schedule", "parse_schedule"]
