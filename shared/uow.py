"""The unit of work: one session per request, committed before the response leaves.

Routes of a service use :class:`UnitOfWorkRoute` (``APIRouter(route_class=UnitOfWorkRoute)``). It opens the
session, runs the endpoint (dependencies, validation, serialization), and for a successful write commits
*then* returns the response — a failed commit becomes a 500 problem, never a 2xx followed by a lost write.
Any error rolls everything back, so nothing is half-written. ``Idempotency-Key`` replays are handled here
because the stored answer must be committed with the change.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared import idempotency
from shared.auth import current_principal
from shared.db import Database
from shared.problems import Problem

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class UnitOfWorkRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint_handler = super().get_route_handler()

        async def handler(request: Request) -> Response:
            db: Database = request.app.state.db
            write = request.method not in SAFE_METHODS
            key = request.headers.get("idempotency-key") if request.method == "POST" else None
            if key is not None and not 1 <= len(key) <= 200:
                raise Problem(
                    422, "Idempotency-Key must be 1 to 200 characters.", slug="invalid-idempotency-key"
                )
            fingerprint = principal = None
            async with db.session(write=write) as session:
                request.scope["tochuc.session"] = session  # per request (state may be shared)
                if key is not None:
                    principal = (await current_principal(request)).sub
                    fingerprint = idempotency.request_fingerprint(
                        request.method, request.url.path, request.url.query, await request.body()
                    )
                    stored = await idempotency.find_answer(session, principal, key)
                    if stored is not None:
                        return _replay(stored, fingerprint)
                response = await endpoint_handler(request)
                if not write or response.status_code >= 400:
                    return response
                if key is not None and principal is not None and fingerprint is not None:
                    await idempotency.store_answer(
                        session,
                        principal,
                        key,
                        idempotency.StoredAnswer(
                            fingerprint,
                            response.status_code,
                            bytes(response.body),
                            {
                                h: response.headers[h]
                                for h in idempotency.REPLAYED_HEADERS
                                if h in response.headers
                            },
                        ),
                    )
                try:
                    await session.commit()
                except IntegrityError:
                    if key is None or principal is None or fingerprint is None:
                        raise
                    # A concurrent request with the same key committed first: answer as it did.
                    await session.rollback()
                    stored = await idempotency.find_answer(session, principal, key)
                    if stored is None:
                        raise
                    return _replay(stored, fingerprint)
            db.committed(session)
            return response

        return handler


def _replay(stored: idempotency.StoredAnswer, fingerprint: str) -> Response:
    if stored.request_hash != fingerprint:
        raise Problem(
            422, "This Idempotency-Key was used with another request.", slug="idempotency-key-reused"
        )
    return Response(
        stored.body, status_code=stored.status, headers={**stored.headers, "Idempotent-Replayed": "true"}
    )


async def get_session(request: Request) -> AsyncSession:  # async: FastAPI runs a plain def in a thread
    session = request.scope.get("tochuc.session")
    if session is None:
        raise RuntimeError("this route does not use UnitOfWorkRoute")
    return session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
