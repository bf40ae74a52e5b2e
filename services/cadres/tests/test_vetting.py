"""Vetting records: the vetting role only (404 for everyone else, admin included), encrypted at rest, every
read and write audited, keys rotated without losing a record, production refuses to start without keys."""

from __future__ import annotations

import os
import stat
from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import select, text

from services.cadres.app import create_app
from services.cadres.tests.planning_support import new_cadre, tree
from services.cadres.vetting.keys import KEY_FILE, VettingKeysMissing
from services.cadres.vetting.models import VettingAudit, VettingRecord
from services.cadres.vetting.service import reencrypt_all
from shared.settings import ServiceSettings

SUMMARY = "Có người thân ở nước ngoài tham gia tổ chức phản động"
RECORD = {
    "kind": "political_history",
    "summary": SUMMARY,
    "conclusion": "Không ảnh hưởng đến tiêu chuẩn chính trị",
    "concluded_on": "2026-05-20",
}


async def audit_rows(cadres: Any) -> list[dict[str, Any]]:
    async with cadres.app.state.db.session() as s:
        rows = await s.execute(select(VettingAudit.__table__).order_by(VettingAudit.id))
        return [dict(r) for r in rows.mappings()]


async def test_only_the_vetting_role_reads_and_writes_and_every_access_is_audited(pair: Any) -> None:
    orgs, cadres = pair
    ids = await tree(orgs, cadres, "VA")
    cadre = await new_cadre(cadres, ids["X"], "Hoàng Văn Giang")
    url = f"/v1/cadres/{cadre}/vetting-records"
    vetting = cadres.auth(["vetting"], sub="bvctnb-1")

    for role in ("admin", "personnel", "viewer", "organizer", "trainer", "service"):
        headers = cadres.auth([role])
        written = await cadres.client.post(url, json=RECORD, headers=headers)
        assert written.status_code == 404 and written.json()["type"] == "/problems/not-found", role
        assert (await cadres.client.get(url, headers=headers)).status_code == 404, role
    outside = cadres.auth(["vetting"], org_scope=ids["B"])
    assert (await cadres.client.post(url, json=RECORD, headers=outside)).status_code == 404
    assert (await cadres.client.get(url, headers=outside)).status_code == 404
    assert await audit_rows(cadres) == []  # nothing was read or written

    r = await cadres.client.post(url, json=RECORD, headers={**vetting, "X-Request-ID": "req-write-1"})
    assert r.status_code == 201, r.text
    record_id = r.json()["id"]
    assert SUMMARY not in r.text  # the answer carries no content
    (write,) = await audit_rows(cadres)
    assert write["action"] == "write" and write["sub"] == "bvctnb-1" and str(write["record_id"]) == record_id
    assert write["request_id"] == "req-write-1"

    r = await cadres.client.get(url, headers={**vetting, "X-Request-ID": "req-read-1"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    (item,) = r.json()["items"]
    assert {k: item[k] for k in RECORD} == RECORD and item["id"] == record_id
    read = (await audit_rows(cadres))[-1]
    assert (
        read["action"] == "read"
        and str(read["record_id"]) == record_id
        and read["request_id"] == "req-read-1"
    )
    # A scoped vetting officer in the cadre's subtree reads too (and is audited).
    assert (
        await cadres.client.get(url, headers=cadres.auth(["vetting"], org_scope=ids["A"]))
    ).status_code == 200
    assert [a["action"] for a in await audit_rows(cadres)] == ["write", "read", "read"]

    # At rest: one opaque token; nothing of the record in clear, in any table.
    async with cadres.app.state.db.session() as s:
        (token,) = (await s.execute(select(VettingRecord.token))).one()
        dumped = []
        for table in ("vetting_records", "outbox", "idempotency_keys", "cadre_changes", "vetting_audit"):
            dumped += [str(tuple(row)) for row in await s.execute(text(f"SELECT * FROM {table}"))]
    assert token.startswith("gAAAA")  # a Fernet token
    for secret in (SUMMARY, RECORD["conclusion"], RECORD["kind"], "2026-05-20"):
        assert secret not in token and not any(secret in row for row in dumped)
    # Nor in the cadre as others see it.
    cadre_read = await cadres.client.get(f"/v1/cadres/{cadre}", headers=cadres.auth(["admin"]))
    assert SUMMARY not in cadre_read.text and "vetting" not in cadre_read.text


async def test_rotation_keeps_every_record_readable(pair: Any) -> None:
    orgs, cadres = pair
    ids = await tree(orgs, cadres, "VB")
    cadre = await new_cadre(cadres, ids["X"], "Đinh Thị Hoa")
    url = f"/v1/cadres/{cadre}/vetting-records"
    vetting = cadres.auth(["vetting"])
    key_file = cadres.settings.data_dir / KEY_FILE
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600  # the development key
    old = Fernet(key_file.read_bytes().strip())
    assert (await cadres.client.post(url, json=RECORD, headers=vetting)).status_code == 201

    # 1. prepend a new key: the old record still reads, a new one is written with the new key.
    new = Fernet(Fernet.generate_key())
    cadres.app.state.vetting_cipher = MultiFernet([new, old])
    assert (await cadres.client.get(url, headers=vetting)).json()["items"][0]["summary"] == SUMMARY
    later = {**RECORD, "summary": "Bổ sung", "conclusion": None, "concluded_on": None}
    assert (await cadres.client.post(url, json=later, headers=vetting)).status_code == 201
    # 2. re-encrypt everything with the new key (the documented one-off), 3. drop the old key.
    assert await reencrypt_all(cadres.app.state.db, cadres.app.state.vetting_cipher) == 2
    cadres.app.state.vetting_cipher = MultiFernet([new])
    items = (await cadres.client.get(url, headers=vetting)).json()["items"]
    assert sorted(i["summary"] for i in items) == sorted([SUMMARY, "Bổ sung"])
    async with cadres.app.state.db.session() as s:
        tokens = [t for (t,) in await s.execute(select(VettingRecord.token))]
    for token in tokens:
        with pytest.raises(InvalidToken):
            old.decrypt(token.encode())  # the old key opens nothing any more


def test_production_refuses_to_start_without_vetting_keys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    settings = ServiceSettings.load(
        "cadres",
        env="production",
        data_dir=tmp_path,
        jwks_url="https://idp.example/jwks",
        nats_url="nats://nats.example:4222",
        database_url="postgresql+asyncpg://cadres@db.example/cadres",
    )
    monkeypatch.delenv("CADRES_VETTING_KEYS", raising=False)
    with pytest.raises(VettingKeysMissing, match="CADRES_VETTING_KEYS is required in production"):
        create_app(settings, run_workers=False)
    assert not (tmp_path / KEY_FILE).exists()
    monkeypatch.setenv("CADRES_VETTING_KEYS", "not-a-key")
    with pytest.raises(VettingKeysMissing, match="key #1 is not a Fernet key"):
        create_app(settings, run_workers=False)
    monkeypatch.setenv(
        "CADRES_VETTING_KEYS", f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"
    )
    assert create_app(settings, run_workers=False).state.vetting_cipher is not None
