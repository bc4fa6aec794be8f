"""Alerts, pure: which conditions hold for a job (signals), when an alert opens, repeats and
resolves (rules), and the one-sentence answer to "why is this job not running?" (why)."""
