"""Counts of members kept in the same unit of work as ``member_states`` (the sector report reads them).

Two tables (``models.MemberCount``, ``models.MemberDayCount``):

* ``member_counts`` — per organization and day of change: the running totals of its members at home by
  active status (``probationary``, ``official``, ``exempt``) and that day's events there (``admitted``,
  ``recognized``, ``left_<reason>``). A change effective on day D in organization X adds its deltas to X's
  rows from D on (inserting X's row for D first, carrying the totals of X's previous row), and its events
  to the row of D.
* ``member_day_counts`` — per day, for the whole system: the net changes by status and the events (an
  upsert that adds; the whole-country report sums the rows up to its end date).

Every write of a member's state goes through :func:`apply` (``repository.insert_state`` / ``new_state``,
and ``service.move_members`` once per merge or dissolution). Writers of the same organization are
serialized by a lock on its ``organizations`` row (``FOR NO KEY UPDATE``, taken in node order), so a row
inserted for a day always carries the totals every earlier-committed change left there.

Invariant (checked by the tests against :func:`recount`): the rows equal what the states imply — for each
organization and day, the members whose state there began on or before the day and had not ended by it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import bindparam, case, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.orgs.members.models import MemberCount, MemberDayCount
from services.orgs.organizations.models import Organization

K = MemberCount.__table__
G = MemberDayCount.__table__
O = Organization.__table__  # noqa: E741

STATUSES = ("probationary", "official", "exempt")
LEFT_REASONS = ("removed", "expelled", "deceased", "withdrawn")
EVENTS = ("admitted", "recognized", *(f"left_{r}" for r in LEFT_REASONS))
COLUMNS = (*STATUSES, *EVENTS)

# node → day → column → delta
Changes = dict[int, dict[dt.date, dict[str, int]]]


def new_changes() -> Changes:
    return defaultdict(lambda: defaultdict(lambda: defaultdict(int)))


def add_state(changes: Changes, node: int, status: str, day: dt.date, sign: int) -> None:
    """A state of ``status`` in ``node`` begins (+1) or ends (−1) on ``day``; only active statuses count."""
    if status in STATUSES:
        changes[node][day][status] += sign


def add_event(changes: Changes, node: int, day: dt.date, event: str, n: int = 1) -> None:
    assert event in EVENTS, event
    changes[node][day][event] += n


# ----------------------------------------------------------------------------------- prebuilt statements

_LOCK = (
    select(O.c.node)
    .where(O.c.node.in_(bindparam("nodes", expanding=True)))
    .order_by(O.c.node)
    .with_for_update(key_share=True)
)
_PREVIOUS = (
    select(K.c.day, K.c.probationary, K.c.official, K.c.exempt)
    .where(K.c.org_node == bindparam("node"), K.c.day <= bindparam("day"))
    .order_by(K.c.day.desc())
    .limit(1)
)
_INSERT = insert(K)
_ADD = (
    update(K)
    .where(K.c.org_node == bindparam("p_node"), K.c.day >= bindparam("p_day"))
    .values(
        {
            **{c: K.c[c] + bindparam(f"p_{c}") for c in STATUSES},
            **{
                c: K.c[c] + case((K.c.day == bindparam("p_day"), bindparam(f"p_{c}")), else_=0)
                for c in EVENTS
            },
        }
    )
)


_UPSERTS: dict[str, Any] = {}


def _day_upsert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect in _UPSERTS:
        return _UPSERTS[dialect]
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    stmt = dialect_insert(G)
    _UPSERTS[dialect] = stmt.on_conflict_do_update(
        index_elements=[G.c.day], set_={c: G.c[c] + stmt.excluded[c] for c in COLUMNS}
    )
    return _UPSERTS[dialect]


async def apply(session: AsyncSession, changes: Changes) -> None:
    """Write ``changes`` (from :func:`add_state` / :func:`add_event`) into both tables."""
    nonzero = {
        node: {day: {c: n for c, n in cols.items() if n} for day, cols in days.items()}
        for node, days in changes.items()
    }
    nonzero = {node: {day: cols for day, cols in days.items() if cols} for node, days in nonzero.items()}
    nonzero = {node: days for node, days in nonzero.items() if days}
    if not nonzero:
        return
    await session.execute(_LOCK, {"nodes": sorted(nonzero)})
    by_day: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for node in sorted(nonzero):
        for day in sorted(nonzero[node]):
            cols = nonzero[node][day]
            prev = (await session.execute(_PREVIOUS, {"node": node, "day": day})).first()
            if prev is None or prev.day != day:
                row = {c: 0 for c in COLUMNS}
                if prev is not None:
                    row.update(probationary=prev.probationary, official=prev.official, exempt=prev.exempt)
                await session.execute(_INSERT, {"org_node": node, "day": day, **row})
            params = {"p_node": node, "p_day": day, **{f"p_{c}": cols.get(c, 0) for c in COLUMNS}}
            await session.execute(_ADD, params)
            for c, n in cols.items():
                by_day[day][c] += n
    upsert = _day_upsert(session)
    for day in sorted(by_day):
        if any(by_day[day].values()):
            await session.execute(upsert, {"day": day, **{c: by_day[day].get(c, 0) for c in COLUMNS}})


# ------------------------------------------------------------------------------------------- recount


def recount_sql() -> tuple[str, str]:
    """The SQL that recomputes both tables from ``members`` and ``member_states`` (PostgreSQL and SQLite):
    ``(per_org_select, per_day_select)``; each selects the columns of its table in table order. The
    migration that created the tables backfilled them with the same statements."""
    status_cols = ", ".join(f"CASE WHEN status = '{s}' THEN {{sign}} ELSE 0 END AS {s}" for s in STATUSES)
    zero_status = ", ".join(f"0 AS {s}" for s in STATUSES)

    def events(**ones: str) -> str:
        return ", ".join(f"{ones.get(e, '0')} AS {e}" for e in EVENTS)

    left = ", ".join(f"CASE WHEN left_reason = '{r}' THEN 1 ELSE 0 END AS left_{r}" for r in LEFT_REASONS)
    active = ", ".join(f"'{s}'" for s in STATUSES)
    ev = f"""
        SELECT org_node, valid_from AS day, {status_cols.format(sign=1)}, {events()}
          FROM member_states WHERE status IN ({active})
        UNION ALL
        SELECT org_node, valid_to AS day, {status_cols.format(sign=-1)}, {events()}
          FROM member_states WHERE status IN ({active}) AND valid_to IS NOT NULL
        UNION ALL
        SELECT admitted_org_node AS org_node, admitted_on AS day, {zero_status}, {events(admitted="1")}
          FROM members WHERE admitted_org_node IS NOT NULL
        UNION ALL
        SELECT s.org_node, s.valid_from AS day, {zero_status}, {events(recognized="1")}
          FROM member_states s
          JOIN (SELECT min(id) AS id FROM member_states WHERE status = 'official' GROUP BY member_id) r
            ON r.id = s.id
        UNION ALL
        SELECT org_node, valid_from AS day, {zero_status}, 0 AS admitted, 0 AS recognized, {left}
          FROM member_states WHERE status = 'left'
    """
    sums = ", ".join(f"sum({c}) AS {c}" for c in COLUMNS)
    per_node_day = f"SELECT org_node, day, {sums} FROM ({ev}) ev GROUP BY org_node, day"
    running = ", ".join(
        f"sum({s}) OVER (PARTITION BY org_node ORDER BY day ROWS UNBOUNDED PRECEDING) AS {s}"
        for s in STATUSES
    )
    per_org = f"SELECT org_node, day, {running}, {', '.join(EVENTS)} FROM ({per_node_day}) d"
    per_day = f"SELECT day, {sums} FROM ({ev}) ev GROUP BY day"
    return per_org, per_day


async def recount(session: AsyncSession) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Both tables recomputed from the members' states, ordered by key (what the tables must hold, bar
    the rows whose every column is 0 in ``member_day_counts``)."""
    per_org, per_day = recount_sql()
    org_rows = (await session.execute(text(per_org + " ORDER BY org_node, day"))).all()
    day_rows = (await session.execute(text(per_day + " ORDER BY day"))).all()
    return [tuple(r) for r in org_rows], [tuple(r) for r in day_rows if any(r[1:])]


async def stored(session: AsyncSession) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Both tables as stored, in the order and shape of :func:`recount`."""
    org_rows = (await session.execute(select(K).order_by(K.c.org_node, K.c.day))).all()
    day_rows = (await session.execute(select(G).order_by(G.c.day))).all()
    return [tuple(r) for r in org_rows], [tuple(r) for r in day_rows if any(r[1:])]
