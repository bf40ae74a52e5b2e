"""The ``tochuc`` command: run the embedded stack, mint development tokens, migrate, tail events.

Expected failures (NATS unreachable, unknown service, bad role, production configuration…) are one line on
stderr and a non-zero exit — never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from shared.settings import CommonSettings, ServiceSettings

EXIT_FAILURE = 1
EXIT_USAGE = 2
DEFAULT_TOKEN_TTL = 8 * 3600  # a working day
NATS_CONNECT_TIMEOUT = 5.0


class CommandError(Exception):
    """An expected failure: printed as one line, exit code attached."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.code = code


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except CommandError as exc:
        return fail(str(exc), exc.code)
    except ValidationError as exc:
        return fail(f"invalid configuration: {settings_problem(exc)}", EXIT_USAGE)
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tochuc",
        description="Party Organization and Building backend: orgs, cadres, training and the gateway.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser(
        "up",
        help="start the embedded stack in the foreground (NATS, services, gateway)",
        description="Start NATS (JetStream), migrate and start every service and the gateway; "
        "Ctrl-C stops everything. Configured by TOCHUC_* variables (TOCHUC_DATA_DIR, ports, TOCHUC_DEMO…).",
    )
    up.set_defaults(handler=cmd_up)

    token = commands.add_parser(
        "token",
        help="print a bearer token the embedded stack accepts",
        description="Mint a development token signed with the key in the data directory "
        "(<TOCHUC_DATA_DIR>/dev-signing.key, created on first use).",
    )
    token.add_argument("--sub", required=True, metavar="NAME", help="who the token speaks for")
    token.add_argument(
        "--role", dest="roles", action="append", required=True, metavar="ROLE", help="a role (repeatable)"
    )
    token.add_argument(
        "--org-scope", metavar="ORG_ID", help="restrict the token to this organization's subtree"
    )
    token.add_argument(
        "--ttl", type=positive_int, default=DEFAULT_TOKEN_TTL, metavar="SECONDS",
        help=f"lifetime in seconds (default {DEFAULT_TOKEN_TTL})",
    )  # fmt: skip
    token.set_defaults(handler=cmd_token)

    migrate = commands.add_parser(
        "migrate",
        help="run the Alembic migrations of one or all services",
        description="Upgrade each service's database (<SERVICE>_DATABASE_URL, or the SQLite file in the "
        "data dir) to the latest revision, then create the services' JetStream streams if NATS is reachable.",
    )
    migrate.add_argument(
        "service", nargs="?", metavar="SERVICE", help="orgs, cadres or training (default: all)"
    )
    migrate.add_argument(
        "--downgrade", metavar="REV", help="downgrade SERVICE to REV instead (a revision id, -1 or base)"
    )
    migrate.set_defaults(handler=cmd_migrate)

    migrate.add_argument(
        "--nats-timeout", type=float, default=0.0, metavar="SECONDS",
        help="wait up to SECONDS for NATS and fail if the streams cannot be made (a deployment's "
        "migration job); default 0: skip the streams when NATS is not reachable",
    )  # fmt: skip

    serve = commands.add_parser(
        "serve",
        help="serve one service (or the gateway) in the foreground, in the chosen roles",
        description="Run one process of a deployment: SERVICE's API, relay and/or consumers (TOCHUC_ROLES, "
        "default all three), or the gateway. Every process answers /health/live, /health/ready and /metrics. "
        "Migrations are not run here: run `tochuc migrate` first (a job in compose and Kubernetes).",
    )
    serve.add_argument("service", metavar="SERVICE", help="orgs, cadres, training or gateway")
    serve.add_argument(
        "--role", dest="roles", action="append", metavar="ROLE",
        help="api, relay, consumers or all (repeatable or comma-separated; default TOCHUC_ROLES or all)",
    )  # fmt: skip
    serve.add_argument(
        "--host", default=None, help="address to listen on (default TOCHUC_HOST, else 127.0.0.1)"
    )
    serve.add_argument(
        "--port", type=positive_int, default=None, help="port (default TOCHUC_<SERVICE>_PORT or its own)"
    )
    serve.set_defaults(handler=cmd_serve)

    events = commands.add_parser("events", help="the events on NATS JetStream")
    events_commands = events.add_subparsers(dest="events_command", required=True, metavar="COMMAND")
    tail = events_commands.add_parser(
        "tail",
        help="print events as they arrive, one CloudEvent per line",
        description="Print the events of the TOCHUC_* streams as they arrive, one CloudEvent JSON per line.",
    )
    tail.add_argument("subject", nargs="?", default="tochuc.>", help="subject filter (default tochuc.>)")
    tail.add_argument("--from-start", action="store_true", help="replay every stored event first")
    tail.add_argument("--stream", metavar="NAME", help="only this stream (e.g. TOCHUC_ORGS)")
    tail.set_defaults(handler=cmd_events_tail)
    return parser


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def fail(message: str, code: int = EXIT_FAILURE) -> int:
    print(f"tochuc: {message}", file=sys.stderr, flush=True)
    return code


def settings_problem(exc: ValidationError) -> str:
    return "; ".join(str(error.get("msg", error)).removeprefix("Value error, ") for error in exc.errors())


# --- up ---------------------------------------------------------------------------------------------


def cmd_up(args: argparse.Namespace) -> int:
    from shared.supervisor import run_stack

    return run_stack(CommonSettings())


# --- token ------------------------------------------------------------------------------------------


def cmd_token(args: argparse.Namespace) -> int:
    settings = CommonSettings()
    if settings.env == "production":
        raise CommandError("tokens from the development key are not accepted in production", EXIT_USAGE)
    from shared.auth import load_or_create_dev_key, mint_token

    try:
        key = load_or_create_dev_key(settings.dev_key_path)
    except OSError as exc:
        raise CommandError(
            f"cannot read or create the development key {settings.dev_key_path}: {exc}"
        ) from exc
    try:
        token = mint_token(
            key,
            sub=args.sub,
            roles=list(dict.fromkeys(args.roles)),
            org_scope=args.org_scope,
            ttl=args.ttl,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
    except ValueError as exc:
        message = (
            str(exc) if "role" in str(exc) else f"--org-scope must be an organization id (a UUID): {exc}"
        )
        raise CommandError(message, EXIT_USAGE) from exc
    print(token)
    return 0


# --- migrate ----------------------------------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace) -> int:
    from shared.migrations import current_heads, downgrade, has_migrations, redact_url, upgrade
    from shared.supervisor import SERVICE_NAMES, installed_services

    if args.service is not None and args.service not in SERVICE_NAMES:
        raise CommandError(f"unknown service {args.service!r}; expected one of {', '.join(SERVICE_NAMES)}", 2)
    if args.downgrade and args.service is None:
        raise CommandError("--downgrade needs a SERVICE", EXIT_USAGE)
    installed = [s for s in installed_services() if has_migrations(s)]
    if args.service is not None:
        if args.service not in installed:
            raise CommandError(
                f"service {args.service!r} is not installed in this build (or has no migrations)"
            )
        targets = [args.service]
    else:
        targets = installed
    if not targets:
        raise CommandError("no service with migrations is installed in this build")

    CommonSettings()  # refuse an unsafe production configuration before touching anything
    for service in targets:
        url = ServiceSettings.load(service).database_url
        _ensure_sqlite_dir(url)
        print(f"{service}: {redact_url(url)}", flush=True)
        try:
            if args.downgrade:
                steps = downgrade(service, url, args.downgrade)
            else:
                steps = upgrade(service, url)
            heads = current_heads(url)
        except Exception as exc:
            raise CommandError(f"migrating {service} failed: {type(exc).__name__}: {describe(exc)}") from exc
        for step in steps:
            print(f"  {'upgraded' if step.is_upgrade else 'downgraded'} {step}", flush=True)
        at = ", ".join(heads) or "base (empty)"
        print(f"  {'now at' if steps else 'already at'} {at}", flush=True)

    if not args.downgrade:
        _ensure_streams(targets, nats_timeout=args.nats_timeout)
    return 0


def _ensure_sqlite_dir(url: str) -> None:
    """SQLite creates the file but not its folder (the data dir on a first run)."""
    if url.startswith("sqlite"):
        from sqlalchemy.engine import make_url

        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _ensure_streams(services: list[str], *, nats_timeout: float = 0.0) -> None:
    """Create or update each service's stream and durable consumers, with ``TOCHUC_NATS_REPLICAS``.

    Without NATS this is skipped (the services make them when they start) unless ``nats_timeout`` > 0: a
    deployment's migration job then waits that long for the cluster and fails if it cannot finish.
    """
    import time

    import nats
    from nats.errors import Error as NatsError

    settings = CommonSettings()
    url = settings.effective_nats_url
    servers = [u.strip() for u in url.split(",") if u.strip()]
    deadline = time.monotonic() + max(nats_timeout, 0.0)

    async def connect() -> Any:
        # nats-py retries a refused first connect for ever, whatever the options: bound it.
        while True:
            try:
                if not any_server_listens(url):
                    raise ConnectionRefusedError("connection refused")
                return await asyncio.wait_for(
                    nats.connect(servers, connect_timeout=2, allow_reconnect=False, error_cb=_quiet),
                    timeout=NATS_CONNECT_TIMEOUT,
                )
            except (OSError, TimeoutError, NatsError) as exc:
                if time.monotonic() >= deadline:
                    if nats_timeout > 0:
                        raise CommandError(f"NATS at {url} is not reachable: {describe(exc)}") from exc
                    print(
                        f"streams: NATS at {url} is not reachable ({describe(exc)}); "
                        "each service creates its stream when it starts",
                        flush=True,
                    )
                    return None
                await asyncio.sleep(1.0)

    async def retrying(what: str, step: Any) -> Any:
        # A cluster that has just started answers "JetStream system temporarily unavailable" until it has
        # elected its meta leader: retry until the deadline.
        while True:
            try:
                return await step()
            except (TimeoutError, NatsError) as exc:
                if time.monotonic() >= deadline:
                    raise CommandError(f"cannot create or update {what}: {describe(exc)}") from exc
                await asyncio.sleep(1.0)

    async def run() -> None:
        nc = await connect()
        if nc is None:
            return
        try:
            js = nc.jetstream(timeout=10)
            await ensure_all(js, services, settings.stream_replicas, retrying)
            print(f"streams and consumers ready on {url} (replicas {settings.stream_replicas})", flush=True)
        finally:
            with contextlib.suppress(Exception):
                await nc.close()

    asyncio.run(run())


async def ensure_all(js: Any, services: list[str], replicas: int, retrying: Any = None) -> dict[str, Any]:
    """Streams of ``services``, then the durable consumers of their subscriptions; what was made, by name.

    A consumer of a stream that does not exist yet (its owner is not in this build) is skipped: the
    consuming service creates it when the stream appears.
    """
    from nats.js.errors import NotFoundError

    from shared.consumer import ensure_durable
    from shared.streams import STREAMS, durable_name, ensure_stream, stream_name

    async def direct(_what: str, step: Any) -> Any:
        return await step()

    attempt = retrying or direct
    made: dict[str, Any] = {}
    for owner in (s for s in services if s in STREAMS):
        info = await attempt(
            f"the stream of {owner}", lambda owner=owner: ensure_stream(js, owner, replicas=replicas)
        )
        made[info.config.name or owner] = info
    if made:
        print(f"streams: {', '.join(made)} ready (replicas {replicas})", flush=True)
    for service in services:
        subscriptions, problem = service_subscriptions(service)
        if problem:
            print(f"consumers: {service}: {problem}; they are created when it starts", flush=True)
            continue
        for sub in subscriptions:
            durable = durable_name(service, sub.owner)
            try:
                await js.stream_info(stream_name(sub.owner))
            except NotFoundError:
                print(f"consumers: {durable} waits for stream {stream_name(sub.owner)}", flush=True)
                continue
            info = await attempt(
                f"the consumer {durable}",
                lambda sub=sub, service=service: ensure_durable(
                    js,
                    consumer=service,
                    owner=sub.owner,
                    filter_subjects=sub.filter_subjects,
                    replicas=replicas,
                ),
            )
            made[durable] = info
            print(f"consumers: {durable} ready", flush=True)
    return made


def service_subscriptions(service: str) -> tuple[list[Any], str | None]:
    """The subscriptions of ``service`` read from its app (built, never started); (subs, why-not)."""
    import importlib

    try:
        module = importlib.import_module(f"services.{service}.app")
        app = module.create_app(ServiceSettings.load(service), run_workers=False)
        spec = app.state.spec
    except Exception as exc:  # e.g. a production secret the migration job does not hold
        return [], f"cannot read its subscriptions ({type(exc).__name__}: {describe(exc)})"
    return list(spec.subscriptions), None


# --- serve ------------------------------------------------------------------------------------------

GRACEFUL_SHUTDOWN_SECONDS = 10


def cmd_serve(args: argparse.Namespace) -> int:
    from shared.settings import parse_roles
    from shared.supervisor import GATEWAY, SERVICE_NAMES, installed_services, module_exists

    service = args.service
    if service not in (*SERVICE_NAMES, GATEWAY):
        names = ", ".join((*SERVICE_NAMES, GATEWAY))
        raise CommandError(f"unknown service {service!r}; expected one of {names}", EXIT_USAGE)
    if service == GATEWAY:
        if args.roles:
            raise CommandError("the gateway has no roles: it only serves the API", EXIT_USAGE)
        if not module_exists("gateway.app"):
            raise CommandError("the gateway is not installed in this build")
        factory = "gateway.app:create_app"
        from gateway.settings import GatewaySettings

        settings: CommonSettings = GatewaySettings()  # refuse an unsafe production configuration here
    else:
        if service not in installed_services():
            raise CommandError(f"service {service!r} is not installed in this build")
        if args.roles:
            try:
                roles = parse_roles(",".join(args.roles))
            except ValueError as exc:
                raise CommandError(str(exc), EXIT_USAGE) from exc
            os.environ["TOCHUC_ROLES"] = ",".join(r for r in ("api", "relay", "consumers") if r in roles)
        factory = f"services.{service}.app:create_app"
        settings = ServiceSettings.load(service)
    host = args.host or os.environ.get("TOCHUC_HOST") or "127.0.0.1"
    port = args.port or settings.port_of(service)

    import uvicorn

    # uvicorn stops gracefully on SIGTERM/SIGINT and then re-raises the signal with the handler it found:
    # with these no-op handlers a graceful stop exits 0 (what Kubernetes and compose expect).
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    uvicorn.run(
        factory,
        factory=True,
        host=host,
        port=port,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        proxy_headers=True,
    )
    return 0


def any_server_listens(urls: str, timeout: float = 1.0) -> bool:
    """A quick TCP check of the NATS URL(s): nats-py would retry a refused connection for ever."""
    for url in urls.split(","):
        parsed = urlsplit(url.strip() if "://" in url else f"nats://{url.strip()}")
        try:
            address = (parsed.hostname or "127.0.0.1", parsed.port or 4222)
            with socket.create_connection(address, timeout=timeout):
                return True
        except OSError:
            continue
    return False


def describe(exc: BaseException) -> str:
    """One line about an exception (database drivers' messages span several)."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


async def _quiet(*_args: Any) -> None:
    """nats-py callbacks that would otherwise log every connection error."""


# --- events tail ------------------------------------------------------------------------------------


def cmd_events_tail(args: argparse.Namespace) -> int:
    settings = CommonSettings()
    return asyncio.run(tail_events(settings.effective_nats_url, args.subject, args.from_start, args.stream))


def subject_intersection(a: str, b: str) -> str | None:
    """The subjects matched by both NATS subject filters ``a`` and ``b``, as one filter; None if disjoint."""
    left, right = a.split("."), b.split(".")
    out: list[str] = []
    for i in range(max(len(left), len(right))):
        x = left[i] if i < len(left) else None
        y = right[i] if i < len(right) else None
        if x == ">" and y is not None:
            return ".".join(out + right[i:])
        if y == ">" and x is not None:
            return ".".join(out + left[i:])
        if x is None or y is None:
            return None
        if x == "*":
            out.append(y)
        elif y == "*" or x == y:
            out.append(x)
        else:
            return None
    return ".".join(out)


async def tail_events(url: str, subject: str, from_start: bool, only_stream: str | None) -> int:
    import nats
    from nats.errors import Error as NatsError
    from nats.js.api import DeliverPolicy
    from nats.js.errors import NotFoundError, ServiceUnavailableError

    from shared.streams import STREAMS

    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopped.set)

    async def disconnected() -> None:
        if not stopped.is_set():
            print(f"tochuc: lost NATS at {url}; reconnecting…", file=sys.stderr, flush=True)

    async def reconnected() -> None:
        print(f"tochuc: reconnected to {url}", file=sys.stderr, flush=True)

    try:
        if not any_server_listens(url):
            raise ConnectionRefusedError("connection refused")
        nc = await asyncio.wait_for(
            nats.connect(
                url,
                connect_timeout=2,
                max_reconnect_attempts=-1,
                reconnect_time_wait=1,
                error_cb=_quiet,
                disconnected_cb=disconnected,
                reconnected_cb=reconnected,
                name="tochuc events tail",
            ),
            timeout=NATS_CONNECT_TIMEOUT,
        )
    except (OSError, TimeoutError, NatsError) as exc:
        raise CommandError(f"cannot reach NATS at {url} ({describe(exc)}) — is the stack running?") from exc

    async def on_message(msg: Any) -> None:
        if not write_line(one_line(msg.data)):
            stopped.set()

    try:
        js = nc.jetstream()
        names = [only_stream] if only_stream else [name for name, _subjects in STREAMS.values()]
        subscribed = 0
        for name in names:
            try:
                info = await js.stream_info(name)
            except NotFoundError:
                if only_stream:
                    raise CommandError(f"no stream {name!r} on {url}") from None
                continue
            for stream_subject in info.config.subjects or []:
                filter_subject = subject_intersection(subject, stream_subject)
                if filter_subject is None:
                    continue
                await js.subscribe(
                    filter_subject,
                    stream=name,
                    cb=on_message,
                    ordered_consumer=True,
                    deliver_policy=DeliverPolicy.ALL if from_start else DeliverPolicy.NEW,
                )
                subscribed += 1
        if subscribed == 0:
            where = f"stream {only_stream}" if only_stream else "any TOCHUC_* stream"
            raise CommandError(f"no event of {where} on {url} can match {subject!r} (is the stack started?)")
        await stopped.wait()
    except ServiceUnavailableError as exc:
        raise CommandError(f"JetStream is not enabled on {url}") from exc
    except (TimeoutError, NatsError) as exc:
        raise CommandError(f"cannot follow the streams on {url}: {describe(exc)}") from exc
    finally:
        stopped.set()  # closing is not a lost connection
        with contextlib.suppress(Exception):
            await asyncio.wait_for(nc.close(), timeout=2)
    return 0


def one_line(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    if "\n" not in text:
        return text
    try:
        return json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))
    except ValueError:
        return text.replace("\n", " ")


def write_line(line: str) -> bool:
    """Write and flush one line; False when the reader has gone (``tochuc events tail | head``)."""
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        # Point stdout at /dev/null so the interpreter's final flush does not complain again.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
