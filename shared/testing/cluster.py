"""A real 3-node NATS JetStream cluster on loopback ports, for deployment and scale-out tests.

Each node has its own client port, cluster (route) port and store, and the production settings of
``deploy/nats/`` — in particular ``sync_interval: always`` (JetStream acknowledges only after fsync; see
the Jepsen note in the engineering spec). A node can be killed (SIGKILL, as a crash) and started again on
the same ports and store: it rejoins and catches up.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from shared.testing.nats import _accepts, find_nats_server, free_port

CLUSTER_NAME = "tochuc"


def node_config(
    *, name: str, port: int, cluster_port: int, routes: list[int], store_dir: Path, http_port: int
) -> str:
    """The configuration of one node (the same shape as ``deploy/nats/nats-N.conf``, on loopback)."""
    route_list = ", ".join(f'"nats-route://127.0.0.1:{p}"' for p in routes)
    return f"""server_name: {name}
listen: 127.0.0.1:{port}
http: 127.0.0.1:{http_port}
jetstream {{
  store_dir: "{store_dir}"
  sync_interval: always
}}
cluster {{
  name: {CLUSTER_NAME}
  listen: 127.0.0.1:{cluster_port}
  routes: [{route_list}]
  connect_retries: 120
}}
"""


class NatsNode:
    def __init__(self, name: str, root: Path, port: int, cluster_port: int, http_port: int) -> None:
        self.name = name
        self.port = port
        self.cluster_port = cluster_port
        self.http_port = http_port
        self.store_dir = root / name / "store"
        self.config_path = root / name / "nats.conf"
        self.log_path = root / name / "nats.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class NatsCluster:
    """``start()``, ``kill(i)``, ``start_node(i)``, ``stop()``; ``url`` lists every node, comma-separated."""

    def __init__(self, size: int = 3, root: Path | None = None) -> None:
        self._own_root = root is None
        self.root = Path(root) if root else Path(tempfile.mkdtemp(prefix="nats-cluster-"))
        self.binary = find_nats_server()
        self.nodes = [
            NatsNode(f"n{i + 1}", self.root, free_port(), free_port(), free_port()) for i in range(size)
        ]
        for node in self.nodes:
            node.store_dir.mkdir(parents=True, exist_ok=True)
            routes = [other.cluster_port for other in self.nodes]
            node.config_path.write_text(
                node_config(
                    name=node.name,
                    port=node.port,
                    cluster_port=node.cluster_port,
                    routes=routes,
                    store_dir=node.store_dir,
                    http_port=node.http_port,
                )
            )

    @property
    def url(self) -> str:
        return ",".join(node.url for node in self.nodes)

    def start(self, timeout: float = 30.0) -> NatsCluster:
        try:
            for i in range(len(self.nodes)):
                self.start_node(i, wait=False)
            for i in range(len(self.nodes)):
                self._wait_accepting(self.nodes[i], timeout)
            self.wait_jetstream(timeout)
        except BaseException:
            self.stop()  # ``__exit__`` does not run when ``__enter__`` fails: leave no server behind
            raise
        return self

    def start_node(self, index: int, *, wait: bool = True, timeout: float = 30.0) -> None:
        node = self.nodes[index]
        if node.running:
            return
        with open(node.log_path, "ab") as log_file:
            node.process = subprocess.Popen(
                [self.binary, "-c", str(node.config_path)], stdout=log_file, stderr=subprocess.STDOUT
            )
        if wait:
            self._wait_accepting(node, timeout)

    def kill(self, index: int) -> None:
        """SIGKILL one node: a crash, not a clean shutdown."""
        node = self.nodes[index]
        process, node.process = node.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _accepts(node.port) and time.monotonic() < deadline:
            time.sleep(0.02)

    def stop(self) -> None:
        for node in self.nodes:
            process, node.process = node.process, None
            if process is None or process.poll() is not None:
                continue
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def cleanup(self) -> None:
        self.stop()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def _wait_accepting(self, node: NatsNode, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not _accepts(node.port):
            if node.process is not None and node.process.poll() is not None:
                raise RuntimeError(f"{node.name} exited: {node.log_path.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{node.name} did not accept connections on {node.port} in {timeout} s")
            time.sleep(0.05)

    def wait_jetstream(self, timeout: float = 30.0) -> None:
        """Until the cluster has a JetStream meta leader (streams can be created); callable from async
        tests too (it then waits in a thread)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self._wait_jetstream(timeout))
            return
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(lambda: asyncio.run(self._wait_jetstream(timeout))).result()

    async def _wait_jetstream(self, timeout: float) -> None:  # noqa: ASYNC109
        import nats

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                nc = await nats.connect(self.url.split(","), connect_timeout=2, allow_reconnect=False)
                try:
                    info = await nc.jetstream(timeout=2).account_info()
                    if info is not None:
                        # The meta group needs a leader too: asking for a stream name list proves it.
                        await nc.jetstream(timeout=2).streams_info()
                        return
                finally:
                    await nc.close()
            except Exception as exc:
                last = exc
            await asyncio.sleep(0.25)
        raise TimeoutError(f"the NATS cluster has no JetStream leader after {timeout} s: {last!r}")

    def __enter__(self) -> NatsCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()
