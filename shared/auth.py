"""Bearer tokens: verification with pinned algorithms, the development key, and the caller's principal.

Development: HS256 with a random key generated into the data dir (``tochuc token`` mints with it).
Production: RS256/EdDSA keys from a JWKS URL (``TOCHUC_JWKS_URL``); HS256 is then refused, so a token signed
with a leaked development key is worthless there.
"""

from __future__ import annotations

import os
import secrets
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request

from shared.problems import Problem
from shared.settings import CommonSettings

ROLES = frozenset({"admin", "organizer", "personnel", "trainer", "viewer", "vetting", "service"})
DEV_ALGORITHMS = ["HS256"]
PROD_ALGORITHMS = ["RS256", "EdDSA"]


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject, roles and organization scope (None = the whole province)."""

    sub: str
    roles: frozenset[str]
    org_scope: uuid.UUID | None = None
    token: str = field(default="", repr=False)

    def has_any(self, *roles: str) -> bool:
        return "admin" in self.roles or any(r in self.roles for r in roles)


def load_or_create_dev_key(path: Path) -> bytes:
    """The development signing key, created (0600) on first use."""
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key)
    finally:
        os.close(fd)
    return key


def mint_token(
    key: bytes,
    *,
    sub: str,
    roles: list[str],
    org_scope: str | None = None,
    ttl: int = 3600,
    issuer: str = "tochuc",
    audience: str = "tochuc",
) -> str:
    """A development token (HS256). Unknown roles are refused so a typo does not mint a useless token."""
    unknown = set(roles) - ROLES
    if unknown:
        raise ValueError(f"unknown role(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(ROLES))}")
    if org_scope is not None:
        uuid.UUID(org_scope)  # refuse a malformed scope early
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub,
        "roles": roles,
        "aud": audience,
        "iss": issuer,
        "iat": now,
        "exp": now + ttl,
    }
    if org_scope:
        claims["org_scope"] = org_scope
    return jwt.encode(claims, key, algorithm="HS256")


class TokenVerifier:
    """Verifies bearer tokens; built once per app from the settings."""

    def __init__(self, settings: CommonSettings, *, dev_key: bytes | None = None) -> None:
        self.audience = settings.jwt_audience
        self.issuer = settings.jwt_issuer
        self._jwks: jwt.PyJWKClient | None = None
        self._key: bytes | None = None
        self._cache: dict[str, tuple[Principal, float]] = {}
        if settings.jwks_url:
            self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300)
            self.algorithms = PROD_ALGORITHMS
        else:
            self._key = dev_key if dev_key is not None else load_or_create_dev_key(settings.dev_key_path)
            self.algorithms = DEV_ALGORITHMS

    # A verified token is kept (its principal) until its expiry, at most CACHE_SECONDS: a client sends the
    # same token with every request, and verifying it again (base64, JSON, HMAC or RSA) costs more than many
    # an answer. The bound on time covers a key withdrawn from the JWKS; the bound on size, a flood of tokens.
    CACHE_SECONDS = 60.0
    CACHE_SIZE = 4096

    def verify(self, token: str) -> Principal:
        cached = self._cache.get(token)
        now = time.time()
        if cached is not None:
            if now < cached[1]:
                return cached[0]
            del self._cache[token]
        principal, expires = self._verify(token)
        if len(self._cache) >= self.CACHE_SIZE:
            self._cache.clear()
        self._cache[token] = (principal, min(expires, now + self.CACHE_SECONDS))
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            key: Any = self._key
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
            claims = jwt.decode(
                token,
                key,
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise unauthorized(f"The bearer token is not valid: {exc}.") from exc
        roles = claims.get("roles") or []
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise unauthorized("The token's roles claim must be a list of strings.")
        scope = claims.get("org_scope")
        try:
            org_scope = uuid.UUID(scope) if scope else None
        except (ValueError, TypeError) as exc:
            raise unauthorized("The token's org_scope claim is not an organization id.") from exc
        principal = Principal(
            sub=str(claims["sub"]), roles=frozenset(roles) & ROLES, org_scope=org_scope, token=token
        )
        return principal, float(claims["exp"])


def unauthorized(detail: str) -> Problem:
    return Problem(401, detail, slug="unauthorized", headers={"WWW-Authenticate": 'Bearer realm="tochuc"'})


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("A bearer token is required.")
    return token.strip()


async def current_principal(request: Request) -> Principal:
    # Kept in the request's own scope: ``request.state`` may be shared lifespan state under some servers.
    cached = request.scope.get("tochuc.principal")
    if cached is not None:
        return cached
    verifier: TokenVerifier = request.app.state.verifier
    principal = verifier.verify(bearer_token(request))
    request.scope["tochuc.principal"] = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_role(principal: Principal, *roles: str, action: str = "do this") -> None:
    """403 unless the caller has one of the roles (admin always may)."""
    if not principal.has_any(*roles):
        raise Problem(403, f"Your roles do not allow you to {action}.", slug="forbidden")


def service_token(settings: CommonSettings, *, sub: str, ttl: int = 300) -> str | None:
    """A short-lived ``service`` token for calls to another service, where this process can sign one.

    In development the services share the data dir's key. In production tokens come from the identity
    provider; this returns None and the caller's own token is passed on instead.
    """
    if settings.jwks_url:
        return None
    key = load_or_create_dev_key(settings.dev_key_path)
    return mint_token(
        key, sub=sub, roles=["service"], ttl=ttl, issuer=settings.jwt_issuer, audience=settings.jwt_audience
    )
