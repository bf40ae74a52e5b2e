"""Idempotency keys: a POST replayed with the same ``Idempotency-Key`` within 24 h gets the first answer.

The key is scoped to the caller (token subject). The stored answer is written in the same transaction as the
change it describes, so either both exist or neither does. The same key with another request is a 422.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Table,
    and_,
    bindparam,
    delete,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import kit_metadata

RETENTION = dt.timedelta(hours=24)

idempotency_keys = Table(
    "idempotency_keys",
    kit_metadata,
    Column("principal", String(200), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)

REPLAYED_HEADERS = ("content-type", "location", "etag")


@dataclass(frozen=True)
class StoredAnswer:
    request_hash: str
    status: int
    body: bytes
    headers: dict[str, str]


def request_fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


# Built once: every POST with an Idempotency-Key runs them.
_ONE_KEY = and_(
    idempotency_keys.c.principal == bindparam("b_principal"), idempotency_keys.c.key == bindparam("b_key")
)
_FIND = select(idempotency_keys).where(_ONE_KEY)
_FORGET = delete(idempotency_keys).where(_ONE_KEY)
_STORE = idempotency_keys.insert()


async def find_answer(session: AsyncSession, principal: str, key: str) -> StoredAnswer | None:
    cutoff = dt.datetime.now(dt.UTC) - RETENTION
    row = (await session.execute(_FIND, {"b_principal": principal, "b_key": key})).mappings().first()
    if row is None or _aware(row["created_at"]) < cutoff:
        return None
    return StoredAnswer(row["request_hash"], row["status"], bytes(row["body"]), dict(row["headers"]))


async def store_answer(session: AsyncSession, principal: str, key: str, answer: StoredAnswer) -> None:
    # An expired row with the same key may remain; it no longer binds the caller.
    await session.execute(_FORGET, {"b_principal": principal, "b_key": key})
    await session.execute(
        _STORE,
        {
            "principal": principal,
            "key": key,
            "request_hash": answer.request_hash,
            "status": answer.status,
            "body": answer.body,
            "headers": answer.headers,
            "created_at": dt.datetime.now(dt.UTC),
        },
    )


async def purge_expired(session: AsyncSession) -> int:
    cutoff = dt.datetime.now(dt.UTC) - RETENTION
    result = await session.execute(delete(idempotency_keys).where(idempotency_keys.c.created_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
