"""Alert evaluation and notification delivery: the engine side of `tron.core.alerts`."""
