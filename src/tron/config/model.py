"""The validated, immutable config: what `load_config` returns and the engine reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any, Literal

from tron.config.monitoring import Monitoring
from tron.config.notifications import NotificationsConfig
from tron.schedule import Schedule

MASTER = "MASTER"
CLEANUP_ACTION_NAME = "cleanup"

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeConfig:
    """A machine actions run on, reached over SSH (or the built-in local node)."""

    name: str
    hostname: str
    username: str | None = None
    port: int = 22


@dataclass(frozen=True, slots=True, kw_only=True)
class NodePoolConfig:
    """A named list of nodes; a node listed twice gets twice the picks."""

    name: str
    nodes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class SshOptions:
    """MASTER `ssh_options`, with Tron's defaults."""

    agent: bool = False
    identities: tuple[str, ...] = ()
    known_hosts_file: str | None = None
    connect_timeout: int = 30
    idle_connection_timeout: int = 3600
    jitter_min_load: int = 4
    jitter_max_delay: int = 20
    jitter_load_factor: int = 1
    # Ours, not Tron's: seconds a node may stay unreachable before its running actions turn
    # `unknown` (a later reconnect still settles them with their real exit status).
    unreachable_timeout: int = 600


@dataclass(frozen=True, slots=True, kw_only=True)
class StatePersistence:
    """MASTER `state_persistence`; `shelve` and `yaml` mean our SQLite store."""

    name: str = "tron_state"
    store_type: str = "shelve"
    buffer_size: int = 1
    # postgres: the server's URL or libpq string (`connection`; Tron's `connection_details`
    # is the same), else $TRON_DATABASE_URL. Several trond may share it: one leads.
    connection: str | None = None
    connection_details: str | None = None
    # postgres: how long the leader's lease lasts, and how often the leader renews it.
    lease_seconds: float = 10.0
    renew_seconds: float = 3.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRunnerConfig:
    """MASTER `action_runner`; accepted for compatibility, our supervisor always runs."""

    runner_type: str = "none"
    remote_status_path: str = "/tmp"
    remote_exec_path: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryBackoff:
    """Optional exponential backoff between retries: delay * factor**(attempt-1), capped."""

    factor: float = 2.0
    max_delay: timedelta | None = None
    jitter: timedelta = timedelta(0)


CatchUpPolicy = Literal["tron", "none", "latest", "all"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CatchUpConfig:
    """What to do with runs that fell due while trond was down.

    `tron` (default) is Tron's one-by-one catch-up; `none` skips them; `latest` runs only the
    newest; `all` runs each. `window` ignores slots older than now - window; `max_runs` caps them.
    """

    policy: CatchUpPolicy = "tron"
    window: timedelta | None = None
    max_runs: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionConfig:
    """One action of a job (or its cleanup action)."""

    name: str
    command: str
    requires: tuple[str, ...] = ()
    node: str | None = None
    retries: int = 0
    retries_delay: timedelta | None = None
    retries_backoff: RetryBackoff | None = None
    expected_runtime: timedelta = timedelta(hours=24)
    executor: str = "ssh"
    trigger_downstreams: bool | Mapping[str, str] | None = None
    triggered_by: tuple[str, ...] = ()
    trigger_timeout: timedelta | None = None
    on_upstream_rerun: str | None = None
    env: Mapping[str, str] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True, kw_only=True)
class JobConfig:
    """One job; `name` is the key in its file, `full_name` is `<namespace>.<name>`."""

    name: str
    namespace: str
    node: str
    schedule: Schedule
    actions: Mapping[str, ActionConfig]
    cleanup_action: ActionConfig | None = None
    monitoring: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    queueing: bool = True
    allow_overlap: bool = False
    run_limit: int = 50
    all_nodes: bool = False
    enabled: bool = True
    max_runtime: timedelta | None = None
    time_zone: str | None = None
    expected_runtime: timedelta = timedelta(hours=24)
    catch_up: CatchUpConfig = CatchUpConfig()
    # What trond does with the `monitoring` keys it knows (the mapping stays as written).
    alerting: Monitoring = field(default_factory=Monitoring)

    @property
    def full_name(self) -> str:
        return f"{self.namespace}.{self.name}"

    @property
    def all_actions(self) -> tuple[ActionConfig, ...]:
        """Regular actions in config order, then the cleanup action if any."""
        cleanup = (self.cleanup_action,) if self.cleanup_action else ()
        return (*self.actions.values(), *cleanup)


@dataclass(frozen=True, slots=True, kw_only=True)
class NamespaceConfig:
    """One config file: its raw text (served by `GET /api/config`) and its jobs."""

    name: str
    file: str
    text: str
    jobs: Mapping[str, JobConfig]


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """The whole validated config: MASTER settings plus every namespace's jobs."""

    namespaces: Mapping[str, NamespaceConfig]
    nodes: Mapping[str, NodeConfig] = field(default_factory=lambda: _EMPTY)
    node_pools: Mapping[str, NodePoolConfig] = field(default_factory=lambda: _EMPTY)
    ssh_options: SshOptions = SshOptions()
    state_persistence: StatePersistence = StatePersistence()
    action_runner: ActionRunnerConfig = ActionRunnerConfig()
    time_zone: str | None = None
    command_context: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    output_stream_dir: str | None = None
    eventbus_enabled: bool = False
    notifications: NotificationsConfig = field(default_factory=NotificationsConfig)
    # `jobs`, made on first use: asked once per alert routed, say, rebuilding it each time cost
    # a check of 10,000 jobs seconds.
    _all_jobs: Mapping[str, JobConfig] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def jobs(self) -> Mapping[str, JobConfig]:
        """Every job of every namespace, by full name."""
        jobs = self._all_jobs
        if jobs is None:
            jobs = MappingProxyType(
                {job.full_name: job for ns in self.namespaces.values() for job in ns.jobs.values()}
            )
            object.__setattr__(self, "_all_jobs", jobs)  # a cache: the config stays as it was
        return jobs

    def node_names(self, node_or_pool: str) -> tuple[str, ...]:
        """The node names behind a node or pool name (a node is a pool of one)."""
        pool = self.node_pools.get(node_or_pool)
        return pool.nodes if pool else (node_or_pool,)
