"""The cadres service: officials, their home organizations, and (next) posts, personnel decisions, plans."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from services.cadres.cadres.router import router as cadres_router
from services.cadres.disciplines.router import router as disciplines_router
from services.cadres.dossier import router as dossier_router
from services.cadres.payroll.router import router as payroll_router
from services.cadres.personnel.router import router as personnel_router
from services.cadres.planning.handlers import QUALIFICATION_EVENTS, apply_qualification_event
from services.cadres.planning.router import router as planning_router
from services.cadres.posts.router import router as posts_router
from services.cadres.stats.router import router as stats_router
from services.cadres.vetting.keys import load_cipher
from services.cadres.vetting.router import router as vetting_router
from shared.logs import configure_logging
from shared.orgtree.directory import OrgDirectory
from shared.orgtree.handlers import ORG_EVENTS, apply_org_event
from shared.rulebook import Rulebook
from shared.service_app import ServiceSpec, Subscription, create_service_app
from shared.settings import ServiceSettings

RULEBOOK_PATH = Path(__file__).with_name("rules.yaml")
VERSION = "0.1.0"


def create_app(settings: ServiceSettings | None = None, *, run_workers: bool = True) -> FastAPI:
    """The cadres app; with no settings, from the environment.

    ``uvicorn --factory services.cadres.app:create_app`` serves it.
    """
    if settings is None:
        settings = ServiceSettings.load("cadres")
        configure_logging("cadres", settings.log_level)
    service_settings = settings
    # Refuses to build the app in production without CADRES_VETTING_KEYS (see vetting/keys.py).
    vetting_cipher = load_cipher(settings)

    @asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        app.state.org_directory = OrgDirectory(service_settings, caller="cadres")
        try:
            yield
        finally:
            await app.state.org_directory.aclose()

    spec = ServiceSpec(
        name="cadres",
        title="tochuc cadres",
        version=VERSION,
        description="Cadres, with their home organizations kept from orgs' events.",
        routers=[
            cadres_router,
            dossier_router,
            posts_router,
            personnel_router,
            planning_router,
            disciplines_router,
            payroll_router,
            vetting_router,
            stats_router,
        ],
        rulebook=Rulebook.load(RULEBOOK_PATH),
        subscriptions=[
            Subscription(owner="orgs", handler=apply_org_event, filter_subjects=[ORG_EVENTS]),
            # Readiness of planned cadres; retried until training's stream exists.
            Subscription(
                owner="training",
                handler=apply_qualification_event,
                filter_subjects=[QUALIFICATION_EVENTS],
            ),
        ],
        resources=resources,
    )
    app = create_service_app(spec, settings, run_workers=run_workers)
    app.state.vetting_cipher = vetting_cipher
    return app
