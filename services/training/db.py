"""The training service's declarative base and the metadata its migrations manage."""

from __future__ import annotations

from sqlalchemy import MetaData

from shared.db import kit_metadata, make_base

Base = make_base()


def target_metadata() -> list[MetaData]:
    """Everything training's migrations manage: its own tables, the org projection and the shared kit's."""
    import shared.consumer
    import shared.idempotency
    import shared.outbox  # noqa: F401
    from services.training.courses import models as courses_models  # noqa: F401
    from services.training.enrollments import models as enrollments_models  # noqa: F401
    from services.training.plans import models as plans_models  # noqa: F401
    from services.training.programmes import models as programmes_models  # noqa: F401
    from services.training.projections import models as projections_models  # noqa: F401
    from services.training.qualifications import models as qualifications_models  # noqa: F401
    from shared.orgtree.models import orgtree_metadata

    return [Base.metadata, kit_metadata, orgtree_metadata]
