"""`python -m tron.config`: prints OK or the problems, with the exit status."""

from __future__ import annotations

import pytest

from tron.config.__main__ import main

from .helpers import SAMPLES


def test_valid_fragment_prints_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(SAMPLES / "extra_v1.yaml")]) == 0
    assert capsys.readouterr().out == "OK\n"


def test_broken_fragment_prints_each_problem(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(SAMPLES / "broken_requires_cycle.yaml"), "-n", "broken"]) == 1
    out = capsys.readouterr().out
    assert out.endswith(
        "broken_requires_cycle.yaml:8: jobs.cyc_job.actions.a.requires: "
        "Circular dependency in job.broken.cyc_job: a -> b -> a\n"
    )
