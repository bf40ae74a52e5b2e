"""Assemble a service's FastAPI app: the same wiring for every service, its domain routers on top.

The lifespan owns every resource (engine, NATS connection, outbox relay, consumers) in ``app.state`` — no
globals — so tests can run several apps in one process.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, FastAPI, Request
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import TokenVerifier, current_principal
from shared.cloudevents import CloudEvent
from shared.consumer import Consumer
from shared.db import Database
from shared.idempotency import purge_expired
from shared.natsconn import NatsHandle
from shared.observability import CheckResult, HttpMetrics, RequestContextMiddleware, health_router
from shared.outbox import purge_published
from shared.problems import install_problem_handlers
from shared.relay import OutboxRelay, outbox_backlog
from shared.rulebook import Rulebook, rules_router
from shared.settings import ServiceSettings
from shared.streams import ensure_stream

log = logging.getLogger("tochuc.app")

OUTBOX_WARN_ROWS = 1000
OUTBOX_WARN_AGE_SECONDS = 60.0
# Published outbox rows are kept a week for investigation (the stream keeps the events for ever).
OUTBOX_RETENTION = dt.timedelta(days=7)
HOUSEKEEPING_INTERVAL_SECONDS = 3600.0


@dataclass(frozen=True)
class Subscription:
    """A durable consumer of another service's stream, applied by ``handler`` in the unit of work."""

    owner: str
    handler: Callable[[AsyncSession, CloudEvent], Awaitable[None]]
    filter_subjects: list[str] | None = None


@dataclass
class ServiceSpec:
    name: str
    title: str
    version: str
    routers: list[APIRouter]
    rulebook: Rulebook | None = None
    subscriptions: list[Subscription] = field(default_factory=list)
    description: str = ""
    # The service's own resources (e.g. an HTTP client to another service), entered after the database and
    # before the workers, left after them; they live in ``app.state``.
    resources: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None


def process_roles(settings: ServiceSettings, *, run_workers: bool = True) -> frozenset[str]:
    """The roles this process plays: ``TOCHUC_ROLES`` (default all), less relay and consumers when
    ``run_workers=False`` (tests and benchmarks that want the API alone)."""
    roles = settings.role_set
    return roles if run_workers else roles & {"api"}


def create_service_app(spec: ServiceSpec, settings: ServiceSettings, *, run_workers: bool = True) -> FastAPI:
    """The app of one service, playing the roles of :func:`process_roles`.

    ``api`` mounts the domain routers; ``relay`` publishes the outbox (and keeps the service's stream);
    ``consumers`` runs the durable consumers of ``spec.subscriptions``. A process without ``api`` still
    answers ``/health/live``, ``/health/ready`` and ``/metrics``, so every role has the same probes.
    """
    roles = process_roles(settings, run_workers=run_workers)
    run_relay = "relay" in roles
    run_consumers = "consumers" in roles and bool(spec.subscriptions)
    uses_nats = run_relay or run_consumers
    registry = CollectorRegistry()
    http_metrics = HttpMetrics(registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.database_url, announce_outbox=not run_relay)
        nats = NatsHandle(settings.effective_nats_url, name=f"tochuc-{spec.name}")
        app.state.db = db
        app.state.nats = nats
        app.state.settings = settings
        app.state.verifier = TokenVerifier(settings)
        app.state.rulebook = spec.rulebook
        workers: list[OutboxRelay | Consumer] = []
        stream_task: asyncio.Task[None] | None = None
        housekeeping: asyncio.Task[None] | None = None
        own = AsyncExitStack()
        if spec.resources is not None:
            await own.enter_async_context(spec.resources(app))
        app.state.roles = roles
        app.state.relay = None
        app.state.consumers = []
        if uses_nats:
            await nats.start()
        if run_relay:
            stream_task = asyncio.create_task(_ensure_streams(nats, spec, settings))
            relay = OutboxRelay(db, nats, service=spec.name, registry=registry)
            workers.append(relay)
            app.state.relay = relay
            # Purging is idempotent: every relay replica may run it.
            housekeeping = asyncio.create_task(_housekeeping(db), name=f"housekeeping-{spec.name}")
        if run_consumers:
            consumers = [
                Consumer(
                    db,
                    nats,
                    name=spec.name,
                    owner=sub.owner,
                    handler=sub.handler,
                    filter_subjects=sub.filter_subjects,
                    registry=registry,
                    replicas=settings.stream_replicas,
                )
                for sub in spec.subscriptions
            ]
            workers.extend(consumers)
            app.state.consumers = consumers
        for worker in workers:
            worker.start()
        try:
            yield
        finally:
            for worker in reversed(workers):
                await worker.stop()
            for task in (stream_task, housekeeping):
                if task is not None:
                    task.cancel()
                    with suppress(asyncio.CancelledError, Exception):
                        await task
            await own.aclose()
            await nats.close()
            await db.dispose()

    app = FastAPI(title=spec.title, version=spec.version, description=spec.description, lifespan=lifespan)
    app.add_middleware(RequestContextMiddleware, metrics=http_metrics)
    install_problem_handlers(app)
    app.include_router(
        health_router(
            service_id=spec.name,
            version=spec.version,
            # An API-only process never talks to NATS: its readiness does not depend on it.
            checks=[_database_check, *([_nats_check] if uses_nats else []), _outbox_check],
            registry=registry,
        )
    )
    if "api" in roles:
        if spec.rulebook is not None:
            app.include_router(rules_router(spec.rulebook, dependencies=[Depends(current_principal)]))
        for router in spec.routers:
            app.include_router(router)
    # ``tochuc migrate`` reads the subscriptions to create the durable consumers ahead of the replicas.
    app.state.spec = spec
    app.state.roles = roles
    return app


async def housekeeping_once(db: Database) -> tuple[int, int]:
    """Delete published outbox rows past retention and expired idempotency keys; (outbox, keys) deleted."""
    async with db.transaction() as session:
        published = await purge_published(session, older_than=OUTBOX_RETENTION)
        keys = await purge_expired(session)
    return published, keys


async def _housekeeping(db: Database) -> None:
    while True:
        await asyncio.sleep(HOUSEKEEPING_INTERVAL_SECONDS)
        try:
            published, keys = await housekeeping_once(db)
            if published or keys:
                log.info(
                    "housekeeping: %d published outbox rows and %d idempotency keys deleted", published, keys
                )
        except Exception as exc:  # the next round tries again
            log.warning("housekeeping failed: %s", exc)


async def _ensure_streams(nats: NatsHandle, spec: ServiceSpec, settings: ServiceSettings) -> None:
    """Create (or update) this service's stream once NATS is reachable; idempotent at every start."""
    delay = 0.5
    while True:
        try:
            await nats.wait_connected(timeout=None)
            await ensure_stream(nats.js, spec.name, replicas=settings.stream_replicas)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("could not ensure stream of %s yet: %s", spec.name, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)


async def _database_check(request: Request) -> list[CheckResult]:
    db: Database = request.app.state.db
    started = time.perf_counter()
    try:
        async with db.session() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:
        return [CheckResult("database:responseTime", "fail", output=type(exc).__name__)]
    return [
        CheckResult("database:responseTime", "pass", round((time.perf_counter() - started) * 1000, 2), "ms")
    ]


async def _nats_check(request: Request) -> list[CheckResult]:
    nats: NatsHandle = request.app.state.nats
    if nats.connected:
        return [CheckResult("nats:connected", "pass", True)]
    # The API still answers and the outbox keeps every change: degraded, not down.
    return [
        CheckResult("nats:connected", "warn", False, output="NATS unreachable; events wait in the outbox")
    ]


async def _outbox_check(request: Request) -> list[CheckResult]:
    db: Database = request.app.state.db
    async with db.session() as session:
        rows, oldest = await outbox_backlog(session)
    status = "warn" if rows > OUTBOX_WARN_ROWS or (oldest or 0) > OUTBOX_WARN_AGE_SECONDS else "pass"
    return [
        CheckResult("outbox:backlog", status, rows, "rows"),
        CheckResult("outbox:oldestAge", status, round(oldest or 0.0, 3), "s"),
    ]
