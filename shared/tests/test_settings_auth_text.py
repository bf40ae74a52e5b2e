"""The small parts of the kit, each on its own: settings, tokens, text, rulebook, pagination, ETags."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shared.auth import Principal, TokenVerifier, load_or_create_dev_key, mint_token
from shared.pagination import decode_cursor, encode_cursor
from shared.problems import Problem
from shared.rulebook import Rulebook, RuleNotInForce
from shared.settings import CommonSettings, ServiceSettings
from shared.text import like_pattern, normalize, vietnamese_sort_key

# --------------------------------------------------------------------------------------------- settings


def test_defaults_follow_the_spec(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in (
        "TOCHUC_DATA_DIR",
        "TOCHUC_NATS_URL",
        "TOCHUC_NATS_PORT",
        "TOCHUC_ORGS_PORT",
        "ORGS_DATABASE_URL",
    ):
        monkeypatch.delenv(var, raising=False)
    common = CommonSettings()
    assert common.data_dir == Path("./var") and common.nats_port == 14222 and common.demo is True
    assert common.effective_nats_url == "nats://127.0.0.1:14222"
    orgs = ServiceSettings.load("orgs")
    assert orgs.port == 8001 and orgs.database_url.startswith("sqlite+aiosqlite:///")
    assert orgs.database_url.endswith("/var/orgs.db")
    monkeypatch.setenv("TOCHUC_ORGS_PORT", "9101")
    monkeypatch.setenv("ORGS_DATABASE_URL", "postgresql+asyncpg://u@db/orgs")
    monkeypatch.setenv("TOCHUC_NATS_URL", "nats://nats:4222")
    orgs = ServiceSettings.load("orgs")
    assert orgs.port == 9101 and orgs.database_url == "postgresql+asyncpg://u@db/orgs"
    assert orgs.effective_nats_url == "nats://nats:4222"
    assert CommonSettings().service_url("orgs") == "http://127.0.0.1:9101"


def test_production_refuses_development_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCHUC_ENV", "production")
    monkeypatch.delenv("TOCHUC_JWKS_URL", raising=False)
    monkeypatch.delenv("TOCHUC_NATS_URL", raising=False)
    with pytest.raises(ValueError, match="TOCHUC_JWKS_URL"):
        CommonSettings()
    monkeypatch.setenv("TOCHUC_JWKS_URL", "https://idp.example/jwks")
    with pytest.raises(ValueError, match="TOCHUC_NATS_URL"):
        CommonSettings()
    monkeypatch.setenv("TOCHUC_NATS_URL", "nats://n1:4222")
    monkeypatch.delenv("ORGS_DATABASE_URL", raising=False)
    with pytest.raises(ValueError, match="PostgreSQL"):
        ServiceSettings.load("orgs")
    monkeypatch.setenv("ORGS_DATABASE_URL", "postgresql+asyncpg://u@db/orgs")
    assert ServiceSettings.load("orgs").env == "production"


# ------------------------------------------------------------------------------------------------ tokens


def test_dev_key_is_created_once_with_owner_only_permissions(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "dev-signing.key"
    key = load_or_create_dev_key(path)
    assert len(key) >= 48 and path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_dev_key(path) == key


def test_dev_tokens_round_trip_and_are_checked(tmp_path: Path) -> None:
    settings = CommonSettings(data_dir=tmp_path)
    verifier = TokenVerifier(settings)
    key = load_or_create_dev_key(settings.dev_key_path)
    scope = uuid.uuid4()
    principal = verifier.verify(
        mint_token(key, sub="an", roles=["organizer", "viewer"], org_scope=str(scope))
    )
    assert principal == Principal(
        sub="an", roles=frozenset({"organizer", "viewer"}), org_scope=scope, token=principal.token
    )
    assert principal.has_any("organizer") and not principal.has_any("vetting")
    with pytest.raises(ValueError, match="unknown role"):
        mint_token(key, sub="x", roles=["superuser"])
    with pytest.raises(Problem) as refused:
        verifier.verify(mint_token(key, sub="x", roles=["admin"], ttl=-1))
    assert refused.value.status == 401 and "WWW-Authenticate" in refused.value.headers
    with pytest.raises(Problem):
        verifier.verify(mint_token(key, sub="x", roles=["admin"], audience="other"))
    with pytest.raises(Problem):
        verifier.verify(mint_token(b"not-the-key-" * 4, sub="x", roles=["admin"]))


def test_a_verified_token_is_kept_until_it_expires_and_no_longer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = CommonSettings(data_dir=tmp_path)
    verifier = TokenVerifier(settings)
    key = load_or_create_dev_key(settings.dev_key_path)
    decoded: list[str] = []
    decode = verifier._verify

    def counting(token: str) -> tuple[Principal, float]:
        decoded.append(token)
        return decode(token)

    monkeypatch.setattr(verifier, "_verify", counting)
    short = mint_token(key, sub="an", roles=["viewer"], ttl=30)
    long = mint_token(key, sub="an", roles=["viewer"], ttl=3600)
    first = verifier.verify(short)
    assert verifier.verify(short) is first and len(decoded) == 1  # kept: not decoded again

    now = time.time()
    monkeypatch.setattr("shared.auth.time.time", lambda: now + 31)  # past the token's exp
    verifier.verify(short)  # (PyJWT's own clock still says valid: what matters is that it was asked)
    assert len(decoded) == 2

    # A long-lived token is decoded again after CACHE_SECONDS (a key withdrawn from the JWKS takes effect).
    verifier.verify(long)
    verifier.verify(long)
    assert len(decoded) == 3
    monkeypatch.setattr("shared.auth.time.time", lambda: now + 31 + TokenVerifier.CACHE_SECONDS + 1)
    verifier.verify(long)
    assert len(decoded) == 4


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, rsa.RSAPrivateKey]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/jwks.json", private
    server.shutdown()


def test_production_verifies_rs256_from_jwks_and_refuses_hs256(
    jwks_server: tuple[str, rsa.RSAPrivateKey], tmp_path: Path
) -> None:
    url, private = jwks_server
    settings = CommonSettings(jwks_url=url, data_dir=tmp_path)
    verifier = TokenVerifier(settings)
    now = int(time.time())
    claims = {
        "sub": "idp-user",
        "roles": ["viewer"],
        "aud": "tochuc",
        "iss": "tochuc",
        "iat": now,
        "exp": now + 60,
    }
    good = jwt.encode(claims, private, algorithm="RS256", headers={"kid": "k1"})
    assert verifier.verify(good).roles == frozenset({"viewer"})
    # A token signed with a development (HMAC) key is worthless in production.
    hs = jwt.encode(claims, b"x" * 64, algorithm="HS256", headers={"kid": "k1"})
    with pytest.raises(Problem):
        verifier.verify(hs)
    assert not settings.dev_key_path.exists()  # no development key is made when a JWKS is configured


# -------------------------------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Nguyễn Văn A", "nguyen van a"),
        ("ĐẢNG BỘ  xã   Hưng Đạo", "dang bo xa hung dao"),
        ("Chi bộ Quỳnh Lưu", "chi bo quynh luu"),
        ("  Thị trấn\tĐô Lương ", "thi tran do luong"),
    ],
)
def test_normalize_drops_diacritics_and_maps_d_stroke(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_like_pattern_escapes_wildcards() -> None:
    assert like_pattern("Hưng_Đạo 100%") == "%hung\\_dao 100\\%%"


def test_vietnamese_sort_key_orders_by_given_name_first() -> None:
    names = ["Trần Văn Bình", "Nguyễn Thị An", "Lê Anh", "Đỗ Văn Đức", "Phạm Thị Ánh"]
    assert sorted(names, key=vietnamese_sort_key) == [
        "Nguyễn Thị An",
        "Lê Anh",
        "Phạm Thị Ánh",
        "Trần Văn Bình",
        "Đỗ Văn Đức",
    ]


# ---------------------------------------------------------------------------------------------- rulebook


def test_rulebook_answers_the_rule_in_force_on_a_date(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        "- {id: a.limit, value: 3, source: '80-QĐ/TW', valid_from: 2022-01-01}\n"
        "- {id: a.limit, value: 5, source: '377-QĐ/TW', valid_from: 2025-10-08}\n"
        "- {id: b.gone, value: 1, source: 'old', valid_from: 2000-01-01, valid_to: 2010-01-01}\n",
        encoding="utf-8",
    )
    book = Rulebook.load(path)
    assert book.value("a.limit", dt.date(2025, 10, 7)) == 3
    assert book.get("a.limit", dt.date(2025, 10, 8)).source == "377-QĐ/TW"
    with pytest.raises(RuleNotInForce):
        book.get("a.limit", dt.date(2021, 12, 31))
    assert [r.id for r in book.in_force(dt.date(2005, 1, 1))] == ["b.gone"]
    assert [r.id for r in book.in_force(dt.date(2026, 1, 1))] == ["a.limit"]
    path.write_text("- {id: broken}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="entry 0"):
        Rulebook.load(path)


# -------------------------------------------------------------------------------------------- pagination


def test_cursor_round_trip_and_garbage_is_a_422() -> None:
    key = ["NA.HD", 42]
    assert decode_cursor(encode_cursor(key)) == key
    assert decode_cursor(None) is None
    for garbage in ("%%%", "bm90IGpzb24", encode_cursor({"a": 1})):  # type: ignore[arg-type]
        with pytest.raises(Problem) as problem:
            decode_cursor(garbage)
        assert problem.value.status == 422
