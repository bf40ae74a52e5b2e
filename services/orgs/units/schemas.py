"""Request and response models of residential units and of the coverage report."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class UnitKind(StrEnum):
    thon = "thon"
    xom = "xom"
    ban = "ban"
    khoi = "khoi"
    to_dan_pho = "to_dan_pho"
    other = "other"


class Strict(BaseModel):
    """Unknown fields are refused: a client cannot set what it may not (mass assignment)."""

    model_config = ConfigDict(extra="forbid")


def _name(value: str | None) -> str | None:
    if value is not None and not value.strip():
        raise ValueError("must not be blank")
    return value.strip() if value is not None else None


class ResidentialUnitCreate(Strict):
    name: str = Field(min_length=1, max_length=400, examples=["Xóm 3"])
    kind: UnitKind
    commune_org_id: uuid.UUID = Field(description="the commune, ward or special-zone organization it lies in")
    covering_org_id: uuid.UUID | None = Field(default=None, description="the Party cell covering it, if any")
    established_on: dt.date | None = Field(
        default=None, description="when the record holds from (default today)"
    )

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return _name(value)


class ResidentialUnitUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=400)
    kind: UnitKind | None = None
    commune_org_id: uuid.UUID | None = Field(
        default=None, description="another commune organization (e.g. after communes merged)"
    )
    covering_org_id: uuid.UUID | None = Field(
        default=None, description="the covering cell from effective_on; null to record that no cell covers it"
    )
    effective_on: dt.date

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return _name(value)

    @model_validator(mode="after")
    def _something_changes(self) -> ResidentialUnitUpdate:
        given = self.model_fields_set - {"effective_on"}
        if not given:
            raise ValueError("name, kind, commune_org_id or covering_org_id must be given")
        if "commune_org_id" in given and self.commune_org_id is None:
            raise ValueError("commune_org_id cannot be null")
        return self


class ResidentialUnitRead(BaseModel):
    id: uuid.UUID
    name: str
    kind: UnitKind
    commune_org_id: uuid.UUID
    covering_org_id: uuid.UUID | None
    established_on: dt.date
    state_since: dt.date = Field(description="the date since which this state (as of as_of) holds")
    version: int = Field(description="the aggregate's version; also the ETag")


class ResidentialUnitPage(BaseModel):
    items: list[ResidentialUnitRead]
    next_cursor: str | None = None


class CoverageRead(BaseModel):
    as_of: dt.date
    units: int = Field(description="residential units of the communes within the subtree on as_of")
    without_cell: list[ResidentialUnitRead] = Field(
        description="units no active Party cell covers on as_of (ordered by name)"
    )
    without_members: list[ResidentialUnitRead] = Field(
        description="units where no Party member (probationary, official or exempt) lives on as_of"
    )
