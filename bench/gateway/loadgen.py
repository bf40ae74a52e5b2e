"""A lean HTTP/1.1 keep-alive load generator (the role ``wrk`` would play), run as its own process.

Each of ``--concurrency`` connections sends one request, waits for the whole answer, and sends the next
(closed loop). Parsing is minimal (status line, Content-Length) so that the generator spends little CPU and
the figures are about the server under test. Prints one JSON object: counts, throughput, latency quantiles.

``--requests N`` measures exactly N answers after the warm-up instead of ``--duration`` seconds (the same
sample size for every target); ``--authorization`` sets the header's value (default: a dummy bearer token of
the same size as a real one, for servers that do not check it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time


class Connection(asyncio.Protocol):
    def __init__(self, request: bytes, stats: Stats) -> None:
        self.request = request
        self.stats = stats
        self.buffer = bytearray()
        self.sent_at = 0
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.send()

    def send(self) -> None:
        assert self.transport is not None
        if self.stats.stopping:
            self.transport.close()
            return
        self.sent_at = time.perf_counter_ns()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        start = head.find(b"content-length:")
        if start < 0:
            raise RuntimeError("the load generator needs answers with Content-Length")
        line_end = head.find(b"\r\n", start)
        length = int(head[start + 15 : line_end if line_end >= 0 else len(head)])
        if len(self.buffer) < end + 4 + length:
            return
        status = int(self.buffer[9:12])
        del self.buffer[: end + 4 + length]
        self.stats.record(time.perf_counter_ns() - self.sent_at, status)
        self.send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.stats.stopping:
            self.stats.lost += 1
            if self.stats.limit:
                self.stats.finish()  # closed by the server: stop waiting for --requests answers
        if not self.closed.done():
            self.closed.set_result(None)


class Stats:
    def __init__(self) -> None:
        self.stopping = False
        self.measuring = False
        self.total = 0
        self.latencies: list[int] = []
        self.errors = 0
        self.lost = 0
        self.limit = 0  # with --requests: stop measuring after this many answers
        self.done = asyncio.Event()

    def record(self, latency_ns: int, status: int) -> None:
        self.total += 1
        if self.measuring:
            self.latencies.append(latency_ns)
            if status >= 400:
                self.errors += 1
            if self.limit and len(self.latencies) >= self.limit:
                self.finish()

    def finish(self) -> None:
        self.measuring = False
        self.done.set()


def quantile(sorted_values: list[int], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))
    return sorted_values[index] / 1e6


async def run(args: argparse.Namespace) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    request = (
        f"GET {args.path} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n"
        f"Authorization: {args.authorization}\r\nAccept: application/json\r\n\r\n"
    ).encode()
    stats = Stats()
    stats.limit = args.requests
    connections = []
    for _ in range(args.concurrency):
        _, protocol = await loop.create_connection(lambda: Connection(request, stats), args.host, args.port)
        connections.append(protocol)
    await asyncio.sleep(args.warmup)
    stats.measuring = True
    started = time.perf_counter()
    if args.requests:
        await asyncio.wait_for(stats.done.wait(), timeout=args.max_seconds)
    else:
        await asyncio.sleep(args.duration)
    stats.measuring = False
    elapsed = time.perf_counter() - started
    stats.stopping = True
    await asyncio.wait_for(asyncio.gather(*(c.closed for c in connections)), timeout=10)
    latencies = sorted(stats.latencies)
    return {
        "requests_total": stats.total,
        "requests": len(latencies),
        "errors": stats.errors,
        **({"connections_lost": stats.lost} if stats.lost else {}),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": quantile(latencies, 0.50),
        "p90_ms": quantile(latencies, 0.90),
        "p99_ms": quantile(latencies, 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument(
        "--requests", type=int, default=0, help="measure this many answers instead of --duration seconds"
    )
    parser.add_argument("--max-seconds", type=float, default=300.0, help="give up on --requests after this")
    parser.add_argument(
        "--authorization", default="Bearer " + "x" * 200, help="the Authorization header's value"
    )
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
