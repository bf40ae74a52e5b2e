"""Which service owns which path: the one route table of the gateway.

Clients call ``/api/v1/<resource>/...``; the gateway forwards to the owning service at ``/v1/<resource>/...``.
Rules are matched by path segments; a more specific rule (``cadres/*/qualifications``) wins over the prefix
rule of its first segment (``cadres``) because rules are tried most specific first. A segment's custom-method
suffix (``personnel-actions:check``) is ignored for matching.

Paths that no rule matches are not forwarded (404): the services' ``/v1/stats/sector`` and ``/v1/rules`` are
answered by the gateway's composed endpoints, which are routers registered before the forwarding route.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

WILDCARD = "*"


@dataclass(frozen=True, slots=True)
class Rule:
    """``pattern`` are the path segments after ``/v1``; ``*`` matches any one segment; a prefix match."""

    pattern: tuple[str, ...]
    service: str

    @property
    def label(self) -> str:
        """The route as it appears in metrics and logs (bounded cardinality)."""
        return "/api/v1/" + "/".join(self.pattern)

    def matches(self, segments: list[str]) -> bool:
        if len(segments) < len(self.pattern):
            return False
        for want, got in zip(self.pattern, segments, strict=False):
            if want != WILDCARD and want != got.partition(":")[0]:
                return False
        return True


def _prefixes(service: str, *resources: str) -> list[Rule]:
    return [Rule((resource,), service) for resource in resources]


ROUTES: tuple[Rule, ...] = (
    # More specific first: a cadre's qualifications and training are training's records, not cadres'.
    Rule(("cadres", WILDCARD, "qualifications"), "training"),
    Rule(("cadres", WILDCARD, "training"), "training"),
    *_prefixes("orgs", "organizations", "members", "residential-units", "coverage", "documents"),
    *_prefixes("cadres", "cadres", "posts", "personnel-actions", "appointments", "plans", "payroll"),
    *_prefixes("training", "programmes", "courses", "enrollments", "training-needs", "training-plans"),
)


class RouteTable:
    """Finds the rule of a service path (``/v1/...``) in one dictionary look-up plus a few comparisons."""

    def __init__(self, rules: Iterable[Rule] = ROUTES) -> None:
        self.rules = tuple(rules)
        self._by_first: dict[str, list[Rule]] = {}
        for rule in sorted(self.rules, key=lambda r: -len(r.pattern)):  # stable: most specific first
            self._by_first.setdefault(rule.pattern[0], []).append(rule)
        if WILDCARD in self._by_first:
            raise ValueError("a rule's first segment must be a resource name")

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(rule.service for rule in self.rules))

    def match(self, service_path: str) -> Rule | None:
        """The rule for a path such as ``/v1/cadres/42/qualifications``, or None if it is not forwarded."""
        if not service_path.startswith("/v1/"):
            return None
        segments = service_path[4:].split("/")
        if any(s in (".", "..") for s in segments):  # no dot-segments: a path names exactly one resource
            return None
        candidates = self._by_first.get(segments[0].partition(":")[0])
        if candidates is None:
            return None
        for rule in candidates:
            if rule.matches(segments):
                return rule
        return None
