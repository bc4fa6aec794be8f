"""`monitoring` keys given meaning, and MASTER `notifications`: read, defaulted, located."""

from __future__ import annotations

import textwrap
from datetime import timedelta

import pytest

from tron.config import load_namespaces
from tron.config.monitoring import EXPONENTIAL, Monitoring
from tron.errors import ConfigError

MASTER = """\
notifications:
  web_url: http://tron.example:8089
  check_every: 10s
  channels:
    ops: {type: webhook, url: "http://hooks.example/tron", headers: {X-Team: data}}
    chat: {type: slack, url: "http://slack.example/hook"}
    mail: {type: email, host: smtp.example, port: 2525, starttls: true, from: tron@x, to: [a@x]}
  default_channels: [ops]
  routes:
    - {team: data, severity: page, channels: [chat]}
  namespaces:
    billing: [mail]
jobs:
  nightly:
    node: localhost
    schedule: "daily 04:00"
    monitoring:
      team: data
      notification_email: "a@x.com, b@x.com"
      slack_channels: ["#data"]
      page: true
      runbook: http://runbooks/nightly
      tip: rerun it
      alert_after: 10m
      realert_every: -1
      check_that_every_day_has_a_successful_run: true
      page_for_expected_runtime: true
      priority: P2
      tags: [etl]
      description: the nightly load
      ticket: true
      component: anything-goes
    actions:
      a: {command: "true"}
"""


def load(text: str) -> object:
    return load_namespaces({"MASTER": ("MASTER.yaml", textwrap.dedent(text))})


def problems(text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(ConfigError) as info:
        load(text)
    return [(p.line, p.key_path, p.message) for p in info.value.problems]


def test_every_key_read() -> None:
    config = load(MASTER)
    job = config.jobs["MASTER.nightly"]  # type: ignore[attr-defined]
    assert job.alerting == Monitoring(
        team="data",
        emails=("a@x.com", "b@x.com"),
        slack_channels=("#data",),
        page=True,
        runbook="http://runbooks/nightly",
        tip="rerun it",
        description="the nightly load",
        priority="P2",
        tags=("etl",),
        alert_after=timedelta(minutes=10),
        realert_every=EXPONENTIAL,
        check_that_every_day_has_a_successful_run=True,
        page_for_expected_runtime=True,
    )
    assert job.monitoring["component"] == "anything-goes"  # unknown keys kept as written
    notifications = config.notifications  # type: ignore[attr-defined]
    assert set(notifications.channels) == {"ops", "chat", "mail"}
    assert notifications.channels["mail"].sender == "tron@x"
    assert notifications.channels["mail"].starttls is True
    assert notifications.channels["ops"].headers == {"X-Team": "data"}
    assert notifications.routes[0].channels == ("chat",)
    assert notifications.namespaces == {"billing": ("mail",)}
    assert notifications.check_every == timedelta(seconds=10)


def test_tron_configs_without_notifications_load_unchanged() -> None:
    config = load(
        """\
        jobs:
          j:
            node: localhost
            schedule: "cron 0 * * * *"
            monitoring: {team: x, realert_every: 3, alert_after: 60, notification_email: false}
            actions: {a: {command: "true"}}
        """
    )
    job = config.jobs["MASTER.j"]  # type: ignore[attr-defined]
    assert job.alerting.realert_every == 3
    assert job.alerting.alert_after == timedelta(seconds=60)
    assert job.alerting.emails == ()
    assert config.notifications.channels == {}  # type: ignore[attr-defined]


JOB = """\
jobs:
  j:
    node: localhost
    schedule: "cron 0 * * * *"
    monitoring: {MONITORING}
    actions: {a: {command: "true"}}
"""


@pytest.mark.parametrize(
    ("monitoring", "message"),
    [
        ("{alert_after: soon}", "is not a valid time delta: soon"),
        ("{alert_after: [1]}", "is not a valid time delta: [1]"),
        ("{realert_every: 0}", "must be a positive number of checks or -1"),
        ("{page: 'yes'}", "is not a boolean: 'yes'"),
        ("{team: [a]}", "is not a string: ['a']"),
        ("{tags: 3}", "is not a string or a list of strings: 3"),
        ("{failure_streak: 0}", "must be a positive int."),
        ("{channels: [nowhere]}", "Unknown notification channel nowhere"),
    ],
)
def test_bad_monitoring_values_are_located(monitoring: str, message: str) -> None:
    found = problems(JOB.replace("{MONITORING}", monitoring))
    assert len(found) == 1
    line, _, text = found[0]
    assert line == 5
    assert message in text


def test_unknown_channels_are_located() -> None:
    found = problems(
        """\
        notifications:
          channels:
            ops: {type: webhook, url: "http://x"}
            bad: {type: webhook}
            odd: {type: pigeon}
          default_channels: [ops, nope]
          routes:
            - {channels: [gone]}
          namespaces:
            billing: [missing]
        """
    )
    assert (4, "notifications.channels.bad", "Channel bad is missing options: url") in found
    assert any(p[0] == 5 and "pigeon" in p[2] for p in found)
    assert (
        6,
        "notifications.default_channels",
        "Unknown notification channel nope at notifications.default_channels",
    ) in found
    assert any(p[0] == 7 and "gone" in p[2] for p in found)
    assert any(p[0] == 9 and "missing" in p[2] for p in found)


def test_notifications_only_in_master() -> None:
    with pytest.raises(ConfigError, match="only allowed in the MASTER"):
        load_namespaces(
            {
                "MASTER": ("MASTER.yaml", ""),
                "team": ("team.yaml", "notifications: {}\n"),
            }
        )


def test_notifications_shape_errors() -> None:
    found = problems("notifications: {channels: [], routes: {}, namespaces: []}\n")
    assert len(found) == 3


def test_the_alerting_example_loads() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[3] / "examples"
    text = (root / "alerting" / "MASTER.yaml").read_text()
    config = load_namespaces({"MASTER": ("MASTER.yaml", text)})
    job = config.jobs["MASTER.nightly_report"]
    assert job.alerting.emails == ("data-oncall@example.com",)
    assert config.notifications.routes[0].severity == "page"
    import yaml

    rules = yaml.safe_load((root / "alerting" / "prometheus-alerts.yaml").read_text())
    assert len(rules["groups"][0]["rules"]) == 6


def test_the_examples_directory_is_a_valid_config() -> None:
    """`./scripts/run` starts trond on a copy of examples/: every file there must load."""
    from pathlib import Path

    from tron.config import load_config

    config = load_config(Path(__file__).resolve().parents[3] / "examples")
    assert "MASTER.heartbeat" in config.jobs
