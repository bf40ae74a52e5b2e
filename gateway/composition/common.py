"""Models shared by the composed views."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel


class OrgRef(BaseModel):
    """An organization named in a composed answer."""

    id: uuid.UUID
    code: str | None = None
    name: str | None = None
    level: str | None = None


def org_ref(organization: dict[str, Any]) -> OrgRef:
    return OrgRef(
        id=organization["id"],
        code=organization.get("code"),
        name=organization.get("name"),
        level=organization.get("level"),
    )
