"""Request and response models of programmes."""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.training.levels import TheoryLevel


class ProgrammeKind(StrEnum):
    political_theory = "political_theory"
    fostering = "fostering"
    knowledge_update = "knowledge_update"
    professional = "professional"
    party_awareness = "party_awareness"
    new_member = "new_member"


class ProgrammeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64, pattern=r"^\S(.*\S)?$")
    name: str = Field(min_length=1, max_length=300)
    kind: ProgrammeKind
    theory_level: TheoryLevel | None = Field(
        default=None, description="required for political_theory, refused for the other kinds"
    )
    duration_months: int | None = Field(default=None, ge=1, le=120, description="nominal duration")

    @model_validator(mode="after")
    def _level_matches_kind(self) -> ProgrammeCreate:
        self.name = " ".join(self.name.split())
        if not self.name:
            raise ValueError("name must not be blank")
        if self.kind is ProgrammeKind.political_theory and self.theory_level is None:
            raise ValueError("a political_theory programme needs theory_level")
        if self.kind is not ProgrammeKind.political_theory and self.theory_level is not None:
            raise ValueError("theory_level is for political_theory programmes only")
        return self


class ProgrammeRead(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    kind: ProgrammeKind
    theory_level: TheoryLevel | None
    duration_months: int | None
    version: int


class ProgrammePage(BaseModel):
    items: list[ProgrammeRead]
    next_cursor: str | None = None
