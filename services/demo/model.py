"""The plan of the demo province: the requests to make, in phases, and what they will create.

A :class:`Plan` is pure data, built deterministically from a seed (no I/O), so a unit test can read what the
loader intends to create and recompute the sector report's figures from it. Requests refer to objects created
earlier by a symbolic key (:class:`Ref`), resolved to the real id when the request is sent.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

PERIOD_FROM = dt.date(2021, 1, 1)
PERIOD_TO = dt.date(2022, 12, 31)
GRASSROOTS = frozenset({"grassroots_committee", "grassroots_cell"})
ENTERPRISE_KINDS = frozenset({"private_enterprise", "fdi_enterprise"})


def in_period(day: dt.date) -> bool:
    return PERIOD_FROM <= day <= PERIOD_TO


@dataclass(frozen=True)
class Ref:
    """The id of an object created by an earlier request, by its key."""

    key: str


@dataclass
class Op:
    """One request. ``then`` runs after it, in order (a chain: a member's admission, then its recognition)."""

    service: str  # orgs | cadres | training: what it loads, for the progress line and the training switch
    what: str  # a short noun for the progress line: "organization", "member", "enrollment"…
    method: str
    path: str  # may hold "{key}" placeholders, replaced by the ids of those keys
    body: dict[str, Any]
    key: str | None = None  # store the created object's id under this key
    then: list[Op] = field(default_factory=list)

    def walk(self) -> Iterator[Op]:
        yield self
        for op in self.then:
            yield from op.walk()


@dataclass
class Phase:
    """Requests that may run concurrently once the earlier phases are done (each chain in order)."""

    name: str
    ops: list[Op] = field(default_factory=list)

    def walk(self) -> Iterator[Op]:
        for op in self.ops:
            yield from op.walk()

    def counts(self) -> Counter[str]:
        return Counter(op.what for op in self.walk())


@dataclass(frozen=True)
class OrgSpec:
    key: str
    code: str
    name: str
    level: str
    kind: str
    parent: str | None
    established_on: dt.date
    dissolved_on: dt.date | None = None

    def active_on(self, day: dt.date) -> bool:
        return self.established_on <= day and (self.dissolved_on is None or day < self.dissolved_on)


@dataclass
class Plan:
    phases: list[Phase] = field(default_factory=list)
    orgs: dict[str, OrgSpec] = field(default_factory=dict)

    def phase(self, name: str) -> Phase:
        for phase in self.phases:
            if phase.name == name:
                return phase
        self.phases.append(Phase(name))
        return self.phases[-1]

    def walk(self) -> Iterator[Op]:
        for phase in self.phases:
            yield from phase.walk()

    def counts(self) -> Counter[str]:
        return Counter(op.what for op in self.walk())

    def grassroots_kind(self, key: str) -> str | None:
        """The kind of the nearest grassroots ancestor-or-self (as the sector report classifies)."""
        spec: OrgSpec | None = self.orgs[key]
        while spec is not None:
            if spec.level in GRASSROOTS:
                return spec.kind
            spec = self.orgs[spec.parent] if spec.parent else None
        return None
