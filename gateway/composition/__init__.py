"""The gateway's composed endpoints: one module per view, over the helper in ``calls``.

``router`` holds them all; the app includes it before the forwarding catch-all.
"""

from __future__ import annotations

from fastapi import APIRouter

from gateway.composition import overview, profile, report

router = APIRouter()
router.include_router(profile.router)
router.include_router(overview.router)
router.include_router(report.router)

__all__ = ["router"]
