"""The orgs service: the tree of Party organizations over time (members, ratings… arrive next)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.orgs.documents.router import router as documents_router
from services.orgs.lookups import router as lookups_router
from services.orgs.members.router import router as members_router
from services.orgs.organizations.router import router as organizations_router
from services.orgs.ratings.router import router as ratings_router
from services.orgs.stats.router import router as stats_router
from services.orgs.units.router import router as units_router
from shared.logs import configure_logging
from shared.rulebook import Rulebook
from shared.service_app import ServiceSpec, create_service_app
from shared.settings import ServiceSettings

RULEBOOK_PATH = Path(__file__).with_name("rules.yaml")
VERSION = "0.1.0"


def create_app(settings: ServiceSettings | None = None, *, run_workers: bool = True) -> FastAPI:
    """The orgs app; with no settings, from the environment.

    ``uvicorn --factory services.orgs.app:create_app`` serves it.
    """
    if settings is None:
        settings = ServiceSettings.load("orgs")
        configure_logging("orgs", settings.log_level)
    spec = ServiceSpec(
        name="orgs",
        title="tochuc orgs",
        version=VERSION,
        description="Party organizations over time: establish, amend, move, merge, dissolve; "
        "as_of on every read.",
        routers=[
            lookups_router,  # before organizations_router: /v1/organizations/paths is not an {org_id}
            organizations_router,
            members_router,
            ratings_router,
            units_router,
            documents_router,
            stats_router,
        ],
        rulebook=Rulebook.load(RULEBOOK_PATH),
    )
    return create_service_app(spec, settings, run_workers=run_workers)
