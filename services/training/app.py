"""The training service: programmes, courses, enrollments, attained levels, training needs and plans.

It keeps two projections from events: organizations (``training__orgs``, the shared org projection, for
validation and subtree scope) and cadres' cadres, posts, assignments and plans (``training__cadres``, for
eligibility and training needs). Organizations and cadres it has not seen yet are looked up once over HTTP
(orgs, cadres) before an id is refused. It publishes ``training.*`` events from its outbox; cadres consumes
``training.qualification.attained``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from services.training.cadre_training import router as cadre_training_router
from services.training.courses.router import router as courses_router
from services.training.enrollments.router import router as enrollments_router
from services.training.needs.router import router as needs_router
from services.training.plans.router import router as plans_router
from services.training.programmes.router import router as programmes_router
from services.training.projections.directory import CadreDirectory
from services.training.projections.handlers import CADRE_EVENTS, apply_cadres_event
from services.training.projections.orgs import ORG_EVENTS, apply_org_event
from services.training.qualifications.router import router as qualifications_router
from services.training.stats.router import router as stats_router
from shared.logs import configure_logging
from shared.orgtree.directory import OrgDirectory
from shared.rulebook import Rulebook
from shared.service_app import ServiceSpec, Subscription, create_service_app
from shared.settings import ServiceSettings

RULEBOOK_PATH = Path(__file__).with_name("rules.yaml")
VERSION = "0.1.0"


def create_app(settings: ServiceSettings | None = None, *, run_workers: bool = True) -> FastAPI:
    """The training app; with no settings, from the environment.

    ``uvicorn --factory services.training.app:create_app`` serves it.
    """
    if settings is None:
        settings = ServiceSettings.load("training")
        configure_logging("training", settings.log_level)
    service_settings = settings

    @asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        app.state.org_directory = OrgDirectory(service_settings, caller="training")
        app.state.cadre_directory = CadreDirectory(service_settings, caller="training")
        try:
            yield
        finally:
            await app.state.cadre_directory.aclose()
            await app.state.org_directory.aclose()

    spec = ServiceSpec(
        name="training",
        title="tochuc training",
        version=VERSION,
        description="Programmes, courses, enrollments, attained theory levels, training needs and plans.",
        routers=[
            programmes_router,
            courses_router,
            enrollments_router,
            qualifications_router,
            cadre_training_router,
            needs_router,
            plans_router,
            stats_router,
        ],
        rulebook=Rulebook.load(RULEBOOK_PATH),
        subscriptions=[
            Subscription(owner="orgs", handler=apply_org_event, filter_subjects=[ORG_EVENTS]),
            Subscription(owner="cadres", handler=apply_cadres_event, filter_subjects=CADRE_EVENTS),
        ],
        resources=resources,
    )
    return create_service_app(spec, settings, run_workers=run_workers)
