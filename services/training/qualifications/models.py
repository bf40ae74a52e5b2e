"""The version of each cadre's qualification aggregate: the ``sequence`` of ``training.qualification
.attained.v1`` events (one more per event about that cadre). The levels themselves are computed from the
declared level and the completed enrollments, never stored twice."""

from __future__ import annotations

import uuid

from sqlalchemy import Integer, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from services.training.db import Base


class QualificationVersion(Base):
    __tablename__ = "qualification_versions"

    cadre_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
