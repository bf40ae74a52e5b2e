"""The orgs service's declarative base and the metadata its migrations manage."""

from __future__ import annotations

from sqlalchemy import MetaData

from shared.db import kit_metadata, make_base

Base = make_base()


def target_metadata() -> list[MetaData]:
    """Everything orgs' migrations manage: its own tables and the shared kit's (outbox, inbox, …)."""
    import shared.consumer
    import shared.idempotency
    import shared.outbox  # noqa: F401
    from services.orgs.documents import models as _documents  # noqa: F401
    from services.orgs.members import models as _members  # noqa: F401
    from services.orgs.organizations import models  # noqa: F401
    from services.orgs.ratings import models as _ratings  # noqa: F401
    from services.orgs.units import models as _units  # noqa: F401

    return [Base.metadata, kit_metadata]
