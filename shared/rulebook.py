"""The rulebook: rules as data, each with its value, the regulation that sets it and when it holds.

A service's ``rules.yaml`` is a list of entries::

    - id: organizations.allowed_parents
      source: "294-QĐ/TW"
      valid_from: 2025-07-01
      description: "Which levels may sit directly under which"
      value: {...}

Several entries may share an id with different ``valid_from`` dates; the one in force on a date is the
latest whose ``valid_from`` is on or before it (and whose optional ``valid_to`` is after it). A check uses
the rule in force on the action's effective date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter, Query
from pydantic import BaseModel

from shared.problems import Problem


@dataclass(frozen=True)
class Rule:
    id: str
    value: Any
    source: str
    valid_from: dt.date
    valid_to: dt.date | None = None
    description: str = ""

    def holds_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


class RuleNotInForce(LookupError):
    pass


class Rulebook:
    def __init__(self, rules: list[Rule]) -> None:
        self._by_id: dict[str, list[Rule]] = {}
        for rule in sorted(rules, key=lambda r: (r.id, r.valid_from)):
            self._by_id.setdefault(rule.id, []).append(rule)

    @classmethod
    def load(cls, *paths: Path) -> Rulebook:
        rules: list[Rule] = []
        for path in paths:
            entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
            if not isinstance(entries, list):
                raise ValueError(f"{path}: a rulebook is a list of entries")
            for i, entry in enumerate(entries):
                try:
                    rules.append(
                        Rule(
                            id=str(entry["id"]),
                            value=entry["value"],
                            source=str(entry["source"]),
                            valid_from=_as_date(entry["valid_from"]),
                            valid_to=_as_date(entry["valid_to"]) if entry.get("valid_to") else None,
                            description=str(entry.get("description", "")),
                        )
                    )
                except (KeyError, TypeError, ValueError) as exc:
                    raise ValueError(f"{path}: entry {i} is malformed: {exc}") from exc
        return cls(rules)

    def get(self, rule_id: str, on: dt.date) -> Rule:
        rule = self.find(rule_id, on)
        if rule is not None:
            return rule
        raise RuleNotInForce(f"no rule {rule_id!r} in force on {on.isoformat()}")

    def value(self, rule_id: str, on: dt.date) -> Any:
        return self.get(rule_id, on).value

    def find(self, rule_id: str, on: dt.date) -> Rule | None:
        """The rule in force on the day, or None (a check whose rule is not in force is not made)."""
        for rule in reversed(self._by_id.get(rule_id, [])):
            if rule.holds_on(on):
                return rule
        return None

    def in_force(self, on: dt.date) -> list[Rule]:
        return [rule for rule_id in sorted(self._by_id) if (rule := self.find(rule_id, on)) is not None]


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


class Finding(BaseModel):
    """One rule a request breaks (or comes close to breaking), as the rulebook names it."""

    rule: str
    source: str
    message: str
    severity: str = "error"


def finding(rule: Rule, message: str, severity: str = "error") -> Finding:
    return Finding(rule=rule.id, source=rule.source, message=message, severity=severity)


def rule_violation(findings: list[Finding], detail: str | None = None) -> Problem:
    """The 422 problem for error findings (type ``/problems/rule-violation``)."""
    errors = [f for f in findings if f.severity == "error"]
    return Problem(
        422,
        detail or "; ".join(f.message for f in errors),
        slug="rule-violation",
        title="Rule violation",
        findings=[f.model_dump() for f in findings],
    )


class RuleRead(BaseModel):
    id: str
    value: Any
    source: str
    valid_from: dt.date
    valid_to: dt.date | None
    description: str


class RuleList(BaseModel):
    as_of: dt.date
    items: list[RuleRead]


def rules_router(rulebook: Rulebook, dependencies: list[Any] | None = None) -> APIRouter:
    router = APIRouter(tags=["rules"], dependencies=dependencies or [])

    @router.get("/v1/rules", response_model=RuleList, operation_id="list_rules")
    async def list_rules(as_of: dt.date | None = Query(default=None)) -> RuleList:
        day = as_of or dt.date.today()
        return RuleList(as_of=day, items=[RuleRead(**r.__dict__) for r in rulebook.in_force(day)])

    return router
