"""A throwaway Redis Cluster on loopback ports: what ElastiCache cluster mode and Serverless look like to a client."""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from tests.support import REQUIRE_REDIS_SERVER, free_port, redis_server_binary, unavailable

READY_TIMEOUT_SECONDS = 20.0
NODE_TIMEOUT_MS = 2000


def redis_cli_binary() -> str:
    """redis-cli, which creates the cluster; missing it is treated like a missing redis-server."""
    binary = shutil.which("redis-cli")
    if binary is None:
        reason = "redis-cli is not installed (apt-get install -y redis-tools); cluster tests cannot run"
        unavailable(reason, REQUIRE_REDIS_SERVER)
    return binary


@dataclass
class LocalCluster:
    """`masters` primaries, each with `replicas` replicas, made by `redis-cli --cluster create`."""

    masters: int = 3
    replicas: int = 0
    ports: list[int] = field(default_factory=list, init=False)
    bus_ports: dict[int, int] = field(default_factory=dict, init=False, repr=False)
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict, init=False, repr=False)
    clients: dict[int, redis.Redis] = field(default_factory=dict, init=False, repr=False)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="actionlog-cluster-")), init=False)

    def start(self) -> LocalCluster:
        server = redis_server_binary()
        cli = redis_cli_binary()
        nodes = self.masters * (1 + self.replicas)
        ports = _distinct_free_ports(2 * nodes)
        self.ports = ports[:nodes]
        # The bus port defaults to port + 10000, which may be taken, or past 65535 for an ephemeral port.
        self.bus_ports = dict(zip(self.ports, ports[nodes:], strict=True))
        for port in self.ports:
            self.processes[port] = subprocess.Popen(self._server_args(server, port), stdout=subprocess.DEVNULL)
        for port in self.ports:
            self._wait_for(functools.partial(self._answers, port), f"redis-server on port {port} to start")
        created = subprocess.run(
            [cli, "--cluster", "create", *self._addresses(), "--cluster-replicas", str(self.replicas), "--cluster-yes"],
            capture_output=True,
            text=True,
            timeout=READY_TIMEOUT_SECONDS,
        )
        if created.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed:\n{created.stdout}{created.stderr}")
        self._wait_for(self._is_ready, "the cluster to agree it is ok")
        return self

    def stop(self) -> None:
        for process in self.processes.values():
            process.kill()
            process.wait(timeout=10)
        self.processes.clear()
        for client in self.clients.values():
            client.close()
        self.clients.clear()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def node(self, port: int) -> redis.Redis:
        """A plain client of one node, to look at or change what that node alone holds."""
        if port not in self.clients:
            self.clients[port] = redis.Redis(
                port=port, decode_responses=True, socket_timeout=2, socket_connect_timeout=1
            )
        return self.clients[port]

    def command(self, port: int, *args: object) -> Any:
        """A raw command to one node, answered as redis-py parses it."""
        return self.node(port).execute_command(*args)  # type: ignore[no-untyped-call]

    def live_ports(self) -> list[int]:
        return [port for port, process in self.processes.items() if process.poll() is None]

    def owner_of(self, slot: int) -> int:
        """The port of the primary serving `slot`, as CLUSTER SLOTS on a live node says."""
        for start, end, primary, *_ in self.command(self.live_ports()[0], "CLUSTER SLOTS"):
            if start <= slot <= end:
                return int(primary[1])
        raise LookupError(f"no node serves slot {slot}")

    def replica_of(self, primary_port: int) -> int:
        # Asked of the primary's replication rather than CLUSTER SLOTS, which leaves a replica out until its
        # replication offset has moved past 0.
        replica = self.node(primary_port).info("replication").get("slave0")
        if replica is None:
            raise LookupError(f"the primary on port {primary_port} has no replica")
        return int(replica["port"])

    def primaries(self) -> set[int]:
        slots = self.command(self.live_ports()[0], "CLUSTER SLOTS")
        return {int(primary[1]) for _, _, primary, *_ in slots}

    def migrate_slot(self, slot: int, target: int) -> None:
        """Move `slot` and its keys to the primary on port `target`, as `redis-cli --cluster reshard` does.

        Clients are not told: the next command for the slot meets MOVED at the old owner.
        """
        source = self.owner_of(slot)
        source_id = self.command(source, "CLUSTER MYID")
        target_id = self.command(target, "CLUSTER MYID")
        self.command(target, "CLUSTER SETSLOT", slot, "IMPORTING", source_id)
        self.command(source, "CLUSTER SETSLOT", slot, "MIGRATING", target_id)
        while keys := self.command(source, "CLUSTER GETKEYSINSLOT", slot, 100):
            self.command(source, "MIGRATE", "127.0.0.1", target, "", 0, 5000, "KEYS", *keys)
        for port in self.primaries():
            self.command(port, "CLUSTER SETSLOT", slot, "NODE", target_id)

    def kill(self, port: int) -> None:
        """SIGKILL one node: its sockets close at once and its port refuses connections, like a lost host."""
        process = self.processes[port]
        process.kill()
        process.wait(timeout=10)

    def _addresses(self) -> list[str]:
        return [f"127.0.0.1:{port}" for port in self.ports]

    def _server_args(self, server: str, port: int) -> list[str]:
        return [
            server,
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--cluster-port", str(self.bus_ports[port]),
            "--cluster-enabled", "yes",
            "--cluster-config-file", str(self.workdir / f"nodes-{port}.conf"),
            "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
            "--save", "",
            "--appendonly", "no",
            # Replicas sync at once instead of after the default 5 s wait for more replicas.
            "--repl-diskless-sync-delay", "0",
            "--dir", str(self.workdir),
            "--logfile", str(self.workdir / f"redis-{port}.log"),
        ]  # fmt: skip

    def _is_ready(self) -> bool:
        """Every node sees every other, calls the cluster ok, and every primary has its replicas in sync."""
        for port in self.ports:
            info = self.command(port, "CLUSTER INFO")
            if info["cluster_state"] != "ok" or int(info["cluster_known_nodes"]) != len(self.ports):
                return False
            replication = self.node(port).info("replication")
            if replication["role"] == "master" and replication["connected_slaves"] != self.replicas:
                return False
            if replication["role"] == "slave" and replication["master_link_status"] != "up":
                return False
        return True

    def _answers(self, port: int) -> bool:
        return bool(self.node(port).ping())

    @staticmethod
    def _wait_for(condition: Callable[[], object], what: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                if condition():
                    return
            except redis.exceptions.RedisError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"timed out waiting for {what}")


def _distinct_free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports
