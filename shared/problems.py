"""RFC 9457 problem details: every error of every service and of the gateway has this shape.

``type`` is a relative URI ``/problems/<slug>``; clients branch on it (e.g. ``/problems/rule-violation``).
No stack trace ever reaches a client: unexpected errors are logged with the request id and answered as a
plain 500 problem.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.logs import request_id_var

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("tochuc.problems")

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    428: "Precondition required",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


def problem_type(slug: str | None) -> str:
    return f"/problems/{slug}" if slug else "about:blank"


class Problem(Exception):
    """An error answered as ``application/problem+json``.

    ``slug`` names the kind of problem (``not-found``, ``rule-violation``, ``stale-version``…);
    ``extensions`` are extra members (``findings``, ``errors``…).
    """

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        slug: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title or _TITLES.get(status, "Error"))
        self.status = status
        self.detail = detail
        self.slug = slug
        self.title = title or _TITLES.get(status, "Error")
        self.headers = headers or {}
        self.extensions = extensions


class NotFound(Problem):
    def __init__(self, what: str = "resource", detail: str | None = None) -> None:
        super().__init__(404, detail or f"No such {what}.", slug="not-found")


class Forbidden(Problem):
    def __init__(self, detail: str) -> None:
        super().__init__(403, detail, slug="forbidden")


class Unprocessable(Problem):
    """Input that is well-formed but refers to something impossible (unknown parent, dates out of order)."""

    def __init__(self, detail: str, *, slug: str = "invalid-input", **extensions: Any) -> None:
        super().__init__(422, detail, slug=slug, **extensions)


def problem_body(
    request: Request | None,
    status: int,
    title: str,
    detail: str | None,
    slug: str | None,
    extensions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"type": problem_type(slug), "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if request is not None:
        body["instance"] = request.url.path
    body["request_id"] = request_id_var.get()
    if extensions:
        body.update(extensions)
    return body


def problem_response(
    request: Request | None,
    status: int,
    detail: str | None = None,
    *,
    slug: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = problem_body(request, status, title or _TITLES.get(status, "Error"), detail, slug, extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            request,
            exc.status,
            exc.detail,
            slug=exc.slug,
            title=exc.title,
            headers=exc.headers,
            **exc.extensions,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": list(err.get("loc", ())),
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
            for err in exc.errors()
        ]
        return problem_response(
            request, 422, "The request is not valid; see errors.", slug="validation", errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = "not-found" if exc.status_code == 404 else None
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem_response(
            request, exc.status_code, detail, slug=slug, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, 500, "An unexpected error occurred; it has been logged.")
