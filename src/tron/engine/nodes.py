"""Which executor runs an action on which node, and the picking of a node from a pool."""

from __future__ import annotations

import random
from collections.abc import Mapping

from tron.config.master import DEFAULT_NODE
from tron.config.model import Config, NodeConfig
from tron.errors import NodeError
from tron.executors import load_executor_class
from tron.executors.base import Executor

# With no `nodes` in MASTER, Tron's implicit node is `localhost`; for us that implicit node is
# the built-in local node, which runs actions on this machine without SSH. A node written in
# the config, even one named localhost, keeps Tron's SSH meaning.
BUILTIN_NODE = DEFAULT_NODE


class NodeExecutors:
    """Executors by node, created on first use (so asyncssh is only imported when needed)."""

    def __init__(
        self,
        config: Config,
        *,
        executors: Mapping[str, Executor] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """`executors` replaces the built-in ones by kind (`local`, `ssh`): tests pass a
        scripted executor here."""
        self._config = config
        self._rng = rng or random.Random()
        given = executors or {}
        self._local: Executor | None = given.get("local")
        self._ssh: Executor | None = given.get("ssh")

    def update(self, config: Config) -> None:
        self._config = config
        if self._ssh is not None and hasattr(self._ssh, "update"):
            self._ssh.update(config)

    def node(self, name: str | None) -> NodeConfig:
        if name is None:
            return BUILTIN_NODE
        node = self._config.nodes.get(name)
        if node is None:
            raise NodeError(f"Unknown node {name}")
        return node

    def is_local(self, name: str | None) -> bool:
        """Whether `name` is the built-in local node (an unknown name is not)."""
        return name is None or self._config.nodes.get(name) is BUILTIN_NODE

    def remote_node(self, name: str | None) -> NodeConfig | None:
        """The SSH node `name`, None for the local node; NodeError for an unknown name."""
        return None if self.is_local(name) else self.node(name)

    def pick(self, node_or_pool: str) -> str:
        """A random node of a pool (a node is a pool of one)."""
        return self._rng.choice(self.pool(node_or_pool))

    def pool(self, node_or_pool: str) -> tuple[str, ...]:
        return self._config.node_names(node_or_pool)

    def executor(self, node_name: str | None) -> Executor:
        if self.is_local(node_name):
            if self._local is None:
                self._local = load_executor_class("local")()
            return self._local
        if self._ssh is None:
            try:
                self._ssh = load_executor_class("ssh")(self._config)
            except ImportError as exc:
                raise NodeError(f"cannot load the SSH executor: {exc}") from exc
        return self._ssh

    def executor_kind(self, node_name: str | None) -> str:
        return "local" if self.is_local(node_name) else "ssh"

    async def close(self) -> None:
        for executor in (self._local, self._ssh):
            if executor is not None:
                await executor.close()
