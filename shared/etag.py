"""ETags for single resources: the aggregate's version; ``If-Match`` with a stale one answers 412."""

from __future__ import annotations

from fastapi import Request, Response

from shared.problems import Problem


def etag_of(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag_of(version)


def check_if_match(request: Request, version: int) -> None:
    """Refuse a write made against another version than the current one (lost-update protection)."""
    header = request.headers.get("if-match")
    if header is None:
        return
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    if "*" in tags or etag_of(version) in tags:
        return
    raise Problem(
        412,
        f"The resource has changed (current version {version}); read it again and retry.",
        slug="stale-version",
        headers={"ETag": etag_of(version)},
    )
