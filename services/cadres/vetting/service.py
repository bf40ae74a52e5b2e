"""Vetting records: only the ``vetting`` role sees them (admin included, nobody else: for every other caller
they do not exist — 404), only for cadres in the caller's subtree. The content is stored as one Fernet token;
every write and every read is appended to ``vetting_audit``. Never in events, lists of cadres or composed
views.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from typing import Any

from cryptography.fernet import InvalidToken, MultiFernet
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.cadres.planning.service import visible_cadre
from services.cadres.vetting import repository as repo
from services.cadres.vetting.schemas import VettingRecordCreate
from shared.auth import Principal
from shared.db import Database
from shared.logs import request_id_var
from shared.problems import NotFound, Problem

ROLE = "vetting"
log = logging.getLogger("tochuc.cadres.vetting")


def encrypt(cipher: MultiFernet, body: VettingRecordCreate) -> str:
    content = body.model_dump(mode="json")
    return cipher.encrypt(json.dumps(content, ensure_ascii=False).encode()).decode()


def decrypt(cipher: MultiFernet, token: str) -> dict[str, Any]:
    content: dict[str, Any] = json.loads(cipher.decrypt(token.encode()))
    return content


async def _allowed(session: AsyncSession, principal: Principal, cadre_id: uuid.UUID) -> None:
    """The vetting role only (not even admin), for a cadre in scope; anyone else is told nothing exists."""
    if ROLE not in principal.roles:
        raise NotFound("vetting record", "Not found.")
    await visible_cadre(session, principal, cadre_id)


def _audit_row(
    principal: Principal, action: str, cadre_id: uuid.UUID, record_id: uuid.UUID | None
) -> dict[str, Any]:
    return {
        "at": dt.datetime.now(dt.UTC), "sub": principal.sub, "action": action, "cadre_id": cadre_id,
        "record_id": record_id, "request_id": request_id_var.get(),
    }  # fmt: skip


async def write(
    session: AsyncSession,
    cipher: MultiFernet,
    principal: Principal,
    cadre_id: uuid.UUID,
    body: VettingRecordCreate,
) -> dict[str, Any]:
    await _allowed(session, principal, cadre_id)
    record_id = uuid.uuid4()
    await repo.insert_record(
        session, id=record_id, cadre_id=cadre_id, token=encrypt(cipher, body), recorded_by=principal.sub
    )
    await repo.audit(session, [_audit_row(principal, "write", cadre_id, record_id)])  # same transaction
    row = await repo.get(session, record_id)
    assert row is not None
    return {"id": str(record_id), "cadre_id": str(cadre_id), "recorded_at": row["recorded_at"],
            "recorded_by": row["recorded_by"]}  # fmt: skip


async def read(
    session: AsyncSession, db: Database, cipher: MultiFernet, principal: Principal, cadre_id: uuid.UUID
) -> list[dict[str, Any]]:
    await _allowed(session, principal, cadre_id)
    rows = await repo.of_cadre(session, cadre_id)
    # The read is on record before anything is decrypted or answered: its own transaction, committed now.
    async with db.transaction() as audit:
        await repo.audit(
            audit, [_audit_row(principal, "read", cadre_id, r["id"]) for r in rows] or
            [_audit_row(principal, "read", cadre_id, None)],
        )  # fmt: skip
    return [_to_read(cipher, r) for r in rows]


def _to_read(cipher: MultiFernet, row: RowMapping) -> dict[str, Any]:
    try:
        content = decrypt(cipher, row["token"])
    except InvalidToken:
        log.error("vetting record %s cannot be decrypted with the configured keys", row["id"])
        raise Problem(
            500, "A vetting record cannot be decrypted with the configured keys.", slug="vetting-key-missing"
        ) from None
    return {
        "id": str(row["id"]), "cadre_id": str(row["cadre_id"]), "kind": content["kind"],
        "summary": content["summary"], "conclusion": content.get("conclusion"),
        "concluded_on": content.get("concluded_on"), "recorded_at": row["recorded_at"],
        "recorded_by": row["recorded_by"],
    }  # fmt: skip


async def reencrypt_all(db: Database, cipher: MultiFernet) -> int:
    """Re-encrypt every record with the first key (step 2 of a rotation); how many records."""
    async with db.transaction() as session:
        rows = await repo.all_tokens(session)
        for row in rows:
            await repo.replace_token(session, row["id"], cipher.rotate(row["token"].encode()).decode())
    return len(rows)
