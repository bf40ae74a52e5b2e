"""The cadres service's declarative base and the metadata its migrations manage."""

from __future__ import annotations

from sqlalchemy import MetaData

from shared.db import kit_metadata, make_base

Base = make_base()


def target_metadata() -> list[MetaData]:
    """Everything cadres' migrations manage: its own tables and the shared kit's (outbox, inbox, …)."""
    import shared.consumer
    import shared.idempotency
    import shared.outbox  # noqa: F401
    from services.cadres.assignments import models as assignments_models  # noqa: F401
    from services.cadres.cadres import models as cadres_models  # noqa: F401
    from services.cadres.disciplines import models as disciplines_models  # noqa: F401
    from services.cadres.payroll import models as payroll_models  # noqa: F401
    from services.cadres.personnel import models as personnel_models  # noqa: F401
    from services.cadres.planning import models as planning_models  # noqa: F401
    from services.cadres.posts import models as posts_models  # noqa: F401
    from services.cadres.vetting import models as vetting_models  # noqa: F401
    from shared.orgtree.models import orgtree_metadata

    return [Base.metadata, kit_metadata, orgtree_metadata]
