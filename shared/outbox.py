"""The transactional outbox: an event is a row written in the same transaction as the change it reports.

A service calls :func:`record_event` inside its unit of work; the row commits (or rolls back) with the
business change, and :class:`shared.relay.OutboxRelay` publishes committed rows to JetStream in ``seq``
order, marking each one only after JetStream acknowledged it. ``id`` is the CloudEvent id and the
``Nats-Msg-Id`` header, so a row published twice (a relay killed between ack and mark) is stored once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    insert,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from shared.cloudevents import dumps, nats_subject, new_event
from shared.db import ANNOUNCE_OUTBOX, kit_metadata
from shared.logs import request_id_var, traceparent_var

# Set on a session that wrote outbox rows; the commit hook uses it to wake the relay at once.
PENDING_KEY = "outbox_pending"

outbox = Table(
    "outbox",
    kit_metadata,
    # BIGINT on PostgreSQL; INTEGER on SQLite, where only "INTEGER PRIMARY KEY" autoincrements.
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("subject", String(255), nullable=False),  # the NATS subject
    Column("payload", Text, nullable=False),  # the CloudEvent, structured mode
    Column("headers", JSON, nullable=False, default=dict),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    # "Unpublished rows in order": WHERE published_at IS NULL ORDER BY seq is a range scan of this index.
    Index(None, "published_at", "seq"),
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back naive; every timestamp the kit writes is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_INSERT = insert(outbox)  # built once: every change records one or more events
# PostgreSQL (asyncpg's numbered parameters): what _INSERT does, given to the DB-API cursor directly.
_INSERT_PG = (
    "INSERT INTO outbox (id, subject, payload, headers, created_at, published_at, attempts) "
    "VALUES ($1, $2, $3, $4, $5, NULL, 0)"
)


# The same, announcing the commit to relays in other processes (``Database(announce_outbox=True)``): the
# NOTIFY rides on the insert, one round trip instead of two.
_INSERT_NOTIFY_PG = f"WITH ins AS ({_INSERT_PG}) SELECT pg_notify($6, '')"
_NOTIFY = text("SELECT pg_notify(:channel, '')")
_NOTIFIED_KEY = "outbox_notified"  # the transaction that has announced its outbox rows


def _insert_pg(sync_session: Session, params: tuple[Any, ...], channel: str | None) -> None:
    # In the session's transaction: Session.connection() begins it as any statement would, and SQLAlchemy's
    # asyncpg cursor opens the database transaction (BEGIN) before the first statement, as for every other.
    cursor = sync_session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    transaction = sync_session.get_transaction() if channel is not None else None
    announce = transaction is not None and sync_session.info.get(_NOTIFIED_KEY) is not transaction
    try:
        if announce:
            cursor.execute(_INSERT_NOTIFY_PG, (*params, channel))
            sync_session.info[_NOTIFIED_KEY] = transaction  # once per transaction
        else:
            cursor.execute(_INSERT_PG, params)
    finally:
        cursor.close()


async def record_event(
    session: AsyncSession,
    *,
    service: str,
    type: str,
    subject: str,
    data: dict[str, Any],
    sequence: int | None,
    request_id: str | None = None,
    traceparent: str | None = None,
) -> str:
    """Add an event to the caller's transaction (never commits) and return its id.

    ``type`` is given without ``vn.tochuc.``; ``subject`` is the CloudEvent subject (the aggregate's id),
    not the NATS subject, which is derived from the type. Request id and traceparent default to the
    current request's (from :mod:`shared.logs`).
    """
    envelope = new_event(
        service=service,
        type=type,
        subject=subject,
        data=data,
        sequence=sequence,
        request_id=request_id if request_id is not None else request_id_var.get(),
    )
    trace = traceparent if traceparent is not None else traceparent_var.get()
    bind = session.sync_session.bind  # (AsyncSession.bind translates it to the AsyncEngine on every call)
    if bind is not None and bind.dialect.name == "postgresql":
        # The row goes through the driver's DB-API cursor in one greenlet hop: the ORM's execute path
        # (events, compiled cache, execution context, result) cost about as much CPU as the round trip.
        # With no relay in this process (``Database(announce_outbox=True)``) the same statement sends a
        # NOTIFY, delivered at commit, once per transaction, to the relays listening in other processes
        # (``OutboxRelay``, TOCHUC_ROLES), which are woken as an in-process one is by ``Database.on_commit``.
        await session.run_sync(
            _insert_pg,
            (
                envelope["id"],
                nats_subject(envelope["type"]),
                dumps(envelope),
                dumps({"traceparent": trace}) if trace else "{}",
                utcnow(),
            ),
            notify_channel(service) if session.info.get(ANNOUNCE_OUTBOX) else None,
        )
        session.info[PENDING_KEY] = True
        return str(envelope["id"])
    await session.execute(
        _INSERT,
        {
            "id": envelope["id"],
            "subject": nats_subject(envelope["type"]),
            "payload": dumps(envelope),
            "headers": {"traceparent": trace} if trace else {},
            "created_at": utcnow(),
            "published_at": None,
            "attempts": 0,
        },
    )
    session.info[PENDING_KEY] = True
    if session.info.get(ANNOUNCE_OUTBOX) and (
        session.info.get(_NOTIFIED_KEY) is not (transaction := session.sync_session.get_transaction())
    ):
        # (announce_outbox is PostgreSQL only; this path is for a session bound otherwise, e.g. per table.)
        await session.execute(_NOTIFY, {"channel": notify_channel(service)})
        session.info[_NOTIFIED_KEY] = transaction
    return str(envelope["id"])


def notify_channel(service: str) -> str:
    """The PostgreSQL channel on which a commit with outbox rows of ``service`` is announced."""
    return f"tochuc_outbox_{service}"


async def purge_published(session: AsyncSession, *, older_than: timedelta) -> int:
    """Delete rows published more than ``older_than`` ago (the stream keeps the events); caller commits."""
    cutoff = utcnow() - older_than
    result = await session.execute(
        delete(outbox).where(outbox.c.published_at.is_not(None), outbox.c.published_at < cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)
