"""Readiness counted in SQL (``repository.coverage_counts``, the sector report's planning section) against
the Python rules (``service.attained`` / ``is_ready``, per post in ``/v1/plans/coverage``) and against dates
worked out by hand: full years across year ends and 29 February, the order of the levels, received levels
from their day on, the earliest of the assignments held, an ended one left out, removed entries."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import insert

from services.cadres.assignments.models import Assignment
from services.cadres.planning import repository as repo
from services.cadres.planning.models import AttainedLevel, Plan
from services.cadres.planning.service import THEORY_ORDER
from services.cadres.tests.planning_support import new_cadre, new_post, tree

TERM = "2025-2030"
ADDED = dt.date(2025, 1, 1)
D = dt.date.fromisoformat

# One cadre per case, planned for its own post(s) from ADDED: (declared level, posts as (required level,
# years in the prior post), assignments as (start, end), received levels as (level, day), removed_on,
# ready from — worked out by hand; None: never ready in the term).
CASES: dict[str, tuple[str, list[tuple[str | None, int | None]], list[tuple[str, str | None]], list[tuple[str, str]], str | None, str | None]] = {  # noqa: E501
    # 2 full years on 2026-03-01, 1 on 2026-02-28.
    "years": ("intermediate", [(None, 2)], [("2024-03-01", None)], [], None, "2026-03-01"),
    # Since 29 February: 1 full year on 1 March 2025, not on 28 February (adding a year would say so).
    "feb29": ("intermediate", [(None, 1)], [("2024-02-29", None)], [], None, "2025-03-01"),
    # Since 1 March 2027: on 29 February 2028 not yet a full year.
    "leap_day": ("intermediate", [(None, 1)], [("2027-03-01", None)], [], None, "2028-03-01"),
    # Two posts held: the earlier start counts (2 years on 2025-06-01).
    "earliest": ("intermediate", [(None, 2)], [("2025-06-01", None), ("2023-06-01", None)], [], None, "2025-06-01"),  # noqa: E501
    # The assignment ended on 2025-01-01 is not held: the current one (since 2024-12-01) counts.
    "ended": ("intermediate", [(None, 2)], [("2020-01-01", "2025-01-01"), ("2024-12-01", None)], [], None, "2026-12-01"),  # noqa: E501
    # A lower level than required, and no post held for a post requiring years: never.
    "below": ("elementary", [("intermediate", None)], [], [], None, None),
    "no_post_held": ("advanced", [(None, 1)], [], [], None, None),
    # Received levels count from their day; a lower one does not help.
    "received": ("none", [("intermediate", None)], [], [("elementary", "2025-05-01"), ("intermediate", "2026-01-10")], None, "2026-01-10"),  # noqa: E501
    # bachelor is above advanced (the rule's order, not the alphabet's); "none" required asks nothing.
    "bachelor": ("bachelor", [("advanced", None)], [], [], None, "2025-01-01"),
    "required_none": ("none", [("none", None)], [], [], None, "2025-01-01"),
    # Level and years: 3 full years on 2025-05-15, not on 2025-05-14.
    "both": ("advanced", [("advanced", 3)], [("2022-05-15", None)], [], None, "2025-05-15"),
    # Years met, level received on 2026-06-01.
    "both_received": ("intermediate", [("advanced", 1)], [("2020-01-01", None)], [("advanced", "2026-06-01")], None, "2026-06-01"),  # noqa: E501
    # Ready for one post of two: ready, one candidate.
    "two_posts": ("intermediate", [("advanced", None), (None, None)], [], [], None, "2025-01-01"),
    # The level of one post, the years of another: ready for neither.
    "split": ("advanced", [("advanced", 5), ("bachelor", None)], [("2026-01-01", None)], [], None, None),
    # Removed on 2025-09-01: in force (and ready) the day before only.
    "removed": ("intermediate", [(None, None)], [], [], "2025-09-01", "2025-01-01"),
}  # fmt: skip
DAYS = [
    "2025-01-01", "2025-02-28", "2025-03-01", "2025-05-14", "2025-05-15", "2025-05-31", "2025-06-01",
    "2025-08-31", "2025-09-01", "2025-12-01", "2026-01-09", "2026-01-10", "2026-02-28", "2026-03-01",
    "2026-05-31", "2026-06-01", "2026-11-30", "2026-12-01", "2028-02-29", "2028-03-01", "2029-12-31",
]  # fmt: skip


def test_level_ranks_follow_the_service_order() -> None:
    assert [level for level, _ in sorted(repo.LEVEL_RANK.items(), key=lambda kv: kv[1])] == THEORY_ORDER
    assert repo.LEVEL_RANK["bachelor"] > repo.LEVEL_RANK["advanced"] > repo.LEVEL_RANK["intermediate"]


async def test_readiness_in_sql_matches_the_rules_and_the_dates_by_hand(pair: Any) -> None:
    orgs, cadres = pair
    ids = await tree(orgs, cadres, "RD")
    org = uuid.UUID(ids["A"])
    held_post = uuid.UUID(await new_post(cadres, ids["A"], "Ủy viên", "executive_member"))
    posts = 1
    for name, (declared, wanted, held, received, removed_on, _) in CASES.items():
        cadre = uuid.UUID(await new_cadre(cadres, ids["A"], f"Cán bộ {name}", declared))
        post_ids = []
        for i, (level, years) in enumerate(wanted):
            requirements: dict[str, Any] = {}
            if level is not None:
                requirements["theory_level"] = level
            if years is not None:
                requirements["min_years_in_prior_post"] = years
            post_ids.append(await new_post(cadres, ids["A"], f"{name} {i}", "head", **requirements))
            posts += 1
        async with cadres.app.state.db.transaction() as s:
            for post_id in post_ids:
                await s.execute(
                    insert(Plan.__table__).values(
                        id=uuid.uuid4(),
                        cadre_id=cadre,
                        post_id=uuid.UUID(post_id),
                        term=TERM,
                        added_on=ADDED,
                        removed_on=D(removed_on) if removed_on else None,
                        removal_reason="test" if removed_on else None,
                        findings=[],
                    )
                )
            for start, end in held:
                await s.execute(
                    insert(Assignment.__table__).values(
                        id=uuid.uuid4(),
                        cadre_id=cadre,
                        post_id=held_post,
                        org_id=org,
                        kind="appointment",
                        starts_on=D(start),
                        ends_on=D(end) if end else None,
                    )
                )
            for level, on in received:
                await s.execute(
                    insert(AttainedLevel.__table__).values(
                        event_id=uuid.uuid4().hex, cadre_id=cadre, theory_level=level, attained_on=D(on)
                    )
                )

    viewer = cadres.auth(["viewer"])
    for text in DAYS:
        day = D(text)
        in_force = [c for c in CASES.values() if c[4] is None or D(c[4]) > day]
        ready = [c for c in in_force if c[5] is not None and D(c[5]) <= day]
        async with cadres.app.state.db.session() as s:
            counts = await repo.coverage_counts(s, term=TERM, day=day, scope_path=None, within_path=None)
        assert counts["candidates"] == len(in_force), text
        assert counts["ready_candidates"] == len(ready), text
        assert counts["posts"] == posts, text
        # The Python rules, per post, over the same data.
        r = await cadres.client.get(
            "/v1/plans/coverage", params={"term": TERM, "as_of": text}, headers=viewer
        )
        assert r.status_code == 200, r.text
        totals = r.json()["totals"]
        assert totals == {
            "posts": counts["posts"],
            "posts_without_candidate": counts["posts"] - counts["planned_posts"],
            "posts_with_one": counts["posts_with_one"],
            "candidates": counts["candidates"],
            "ready_candidates": counts["ready_candidates"],
        }, text
        # And the sector report, whose planning section is these counts (its term: the one `to` falls in).
        r = await cadres.client.get(
            "/v1/stats/sector", params={"from": "2025-01-01", "to": text}, headers=viewer
        )
        assert r.status_code == 200, r.text
        assert r.json()["planning"] == {
            "term": TERM,
            "posts": totals["posts"],
            "posts_without_candidate": totals["posts_without_candidate"],
            "candidates": totals["candidates"],
            "ready_candidates": totals["ready_candidates"],
        }, text
