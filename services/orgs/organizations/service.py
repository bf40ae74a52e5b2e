"""The rules of the organization tree. Functions take the session and never commit.

Every change is effective on a date, is appended (never overwrites), bumps the aggregate's version, writes
its history entry and its event in the same transaction. Changes to a subtree must come in date order (see
docs/adr/0001-tree-storage.md): a change effective before a later recorded change of the same subtree is
refused, because it would silently rewrite states that others may already have read.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Sequence
from json.encoder import encode_basestring as _json_str  # a JSON string, non-ASCII kept (as JSONResponse)
from operator import itemgetter
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.orgs.members import service as members
from services.orgs.organizations import events
from services.orgs.organizations import repository as repo
from services.orgs.organizations.schemas import (
    OrganizationCreate,
    OrganizationDissolve,
    OrganizationMerge,
    OrganizationMove,
    OrganizationUpdate,
)
from shared.auth import Principal, require_role
from shared.logs import request_id_var
from shared.problems import NotFound, Problem, Unprocessable
from shared.rulebook import Finding, Rulebook, finding, rule_violation
from shared.text import like_pattern, normalize

WRITE_ROLES = ("organizer",)
NOWHERE = "/~/"  # a path no organization has: the scope of a token whose scope organization is unknown


# ------------------------------------------------------------------------------------------------ scope


async def scope_path(session: AsyncSession, principal: Principal) -> str | None:
    """The caller's subtree as it stands today (None: the whole province)."""
    if principal.org_scope is None:
        return None
    return await repo.current_path(session, principal.org_scope) or NOWHERE


def within_scope(path: str, scope: str | None) -> bool:
    return scope is None or path.startswith(scope)


async def _visible(
    session: AsyncSession, principal: Principal, org_id: uuid.UUID
) -> tuple[RowMapping, str | None]:
    """The organization's identity if the caller may see it; 404 otherwise (outside scope = not there)."""
    ident = await repo.identity_with_current_path(session, org_id)
    scope = await scope_path(session, principal)
    if ident is not None and within_scope(ident["current_path"], scope):
        return ident, scope
    raise NotFound("organization", f"No organization {org_id}.")


VersionCheck = Callable[[int], None]


async def _writable(
    session: AsyncSession,
    principal: Principal,
    org_id: uuid.UUID,
    action: str,
    check_version: VersionCheck | None = None,
) -> tuple[RowMapping, str | None]:
    ident, scope = await _visible(session, principal, org_id)
    require_role(principal, *WRITE_ROLES, action=action)
    if check_version is not None:
        check_version(ident["version"])
    return ident, scope


# ---------------------------------------------------------------------------------------------- reading


async def to_reads(session: AsyncSession, rows: Sequence[RowMapping], day: dt.date) -> list[dict[str, Any]]:
    """Rows as API dicts, with ids resolved for parents, paths and merge targets.

    The rows carry their own ids; only ancestors outside them (and merge targets) are looked up, in one query.
    """
    ids: dict[int, uuid.UUID] = {row["node"]: row["id"] for row in rows}
    missing: set[int] = set()
    for row in rows:
        missing.update(n for n in repo.path_nodes(row["path"]) if n not in ids)
        if row["merged_into_node"] and row["merged_into_node"] not in ids:
            missing.add(row["merged_into_node"])
    if missing:
        ids.update(await repo.ids_of(session, missing))
    text_ids = {node: str(value) for node, value in ids.items()}
    return [to_read(row, text_ids) for row in rows]


def to_read(row: RowMapping, ids: dict[int, str]) -> dict[str, Any]:
    ended = row["status"] != "active"
    return {
        "id": ids[row["node"]],
        "code": row["code"],
        "name": row["name"],
        "level": row["level"],
        "kind": row["kind"],
        "tags": repo.tags_list(row["tags"]),
        "parent_id": ids[row["parent_node"]] if row["parent_node"] else None,
        "path": [ids[n] for n in repo.path_nodes(row["path"])],
        "status": row["status"],
        "established_on": row["established_on"].isoformat(),
        "dissolved_on": row["valid_from"].isoformat() if ended else None,
        "merged_into_id": ids[row["merged_into_node"]] if row["merged_into_node"] else None,
        "decision_no": row["decision_no"],
        "decided_on": row["decided_on"].isoformat() if row["decided_on"] else None,
        "state_since": row["valid_from"].isoformat(),
        "version": row["version"],
    }


async def _row_on(session: AsyncSession, ident: RowMapping, day: dt.date) -> RowMapping:
    row = await repo.row_at(session, ident["node"], day)
    if row is None:
        raise NotFound("organization", f"Organization {ident['id']} did not exist on {day.isoformat()}.")
    return row


async def get(session: AsyncSession, principal: Principal, org_id: uuid.UUID, day: dt.date) -> dict[str, Any]:
    # The hot path of reads: the state on the day and the scope check in one query.
    row = await repo.row_of_id_at(session, org_id, day)
    if row is None or not within_scope(row["current_path"], await scope_path(session, principal)):
        await _visible(session, principal, org_id)  # 404: no such organization (or not in scope)
        raise NotFound("organization", f"Organization {org_id} did not exist on {day.isoformat()}.")
    return (await to_reads(session, [row], day))[0]


async def ancestors(
    session: AsyncSession, principal: Principal, org_id: uuid.UUID, day: dt.date
) -> list[dict[str, Any]]:
    """From the root down to the organization, as of the day.

    Those outside the caller's scope are left out.
    """
    ident, scope = await _visible(session, principal, org_id)
    row = await _row_on(session, ident, day)
    rows = await repo.rows_for_nodes(session, repo.path_nodes(row["path"]), day)
    if scope is not None:
        current = {n: (await repo.current_row(session, n)) for n in (r["node"] for r in rows)}
        rows = [r for r in rows if current[r["node"]] and within_scope(current[r["node"]]["path"], scope)]
    return await to_reads(session, rows, day)


# The tree's answer is written as JSON text directly (the bytes ``OrganizationTree`` would give): a
# committee's subtree is ~10,000 nodes and ~6 MB, and dicts + JSON encoding cost far more than the query.
# The fields, their order and their formats are those of ``to_read`` (checked against the model by a test).
(
    _NODE,
    _PARENT,
    _FROM,
    _MERGED,
    _NAME,
    _LEVEL,
    _KIND,
    _TAGS,
    _ID,
    _CODE,
    _ESTABLISHED,
    _DECISION_NO,
    _DECIDED_ON,
    _VERSION,
) = range(len(repo.TREE_FIELDS))
_BY_CODE = itemgetter(_CODE)


class _Memo(dict[Any, str]):
    """A small vocabulary (levels, kinds, statuses, tag sets) as JSON text, each value encoded once."""

    def __init__(self, encode: Callable[[Any], str]) -> None:
        super().__init__()
        self.encode = encode

    def __missing__(self, key: Any) -> str:
        self[key] = text = self.encode(key)
        return text


def _json_tags(text: str) -> str:
    return "[" + ",".join(_json_str(t) for t in repo.tags_list(text)) + "]"


async def _text_ids(session: AsyncSession, nodes: set[int]) -> dict[int, str]:
    return {n: str(i) for n, i in (await repo.ids_of(session, nodes)).items()}


async def tree_json(
    session: AsyncSession, principal: Principal, org_id: uuid.UUID, day: dt.date, depth: int
) -> tuple[bytes, int]:
    """The organization with its active descendants nested, ``depth`` levels down, as of the day.

    Returns the answer as JSON (``OrganizationTree``, UTF-8) and the organization's version (its ETag).
    """
    # The state on the day and the scope check in one query (as ``get``); the 404s are those of ``get``.
    root = await repo.row_of_id_at(session, org_id, day)
    if root is None or not within_scope(root["current_path"], await scope_path(session, principal)):
        await _visible(session, principal, org_id)
        raise NotFound("organization", f"Organization {org_id} did not exist on {day.isoformat()}.")
    rows = list(await repo.tree_rows(session, root["path"], day, root["depth"] + depth))
    # Siblings by code, in Python's order (code points: SQLite's, and PostgreSQL's under "C"/"C.UTF-8"); the
    # children lists below keep it.
    rows.sort(key=_BY_CODE)
    root_status = root["status"]
    if root_status != "active":
        rows.insert(0, repo.tree_row(root))
    # Nesting: a node whose parent is not there is left out with its subtree.
    root_node = root["node"]
    index = {row[_NODE]: i for i, row in enumerate(rows)}
    children: dict[int, list[int]] = {}  # only for nodes with children: fewer objects for the collector
    for i, row in enumerate(rows):
        parent = index.get(row[_PARENT])
        if parent is not None and row[_NODE] != root_node:
            kids = children.get(parent)
            if kids is None:
                children[parent] = [i]
            else:
                kids.append(i)
    # Ids of nodes outside the rows (the root's ancestors, merge targets): one query.
    missing = {n for n in repo.path_nodes(root["path"]) if n not in index}
    missing.update(row[_MERGED] for row in rows if row[_MERGED] and row[_MERGED] not in index)
    outside = await _text_ids(session, missing) if missing else {}

    def id_of(node: int) -> str:
        i = index.get(node)
        return repo.id_text(rows[i][_ID]) if i is not None else outside[node]

    def id_json(node: int) -> str:
        return f'"{id_of(node)}"'

    def quoted(text: Any) -> str:
        return f'"{text}"'

    json_str = _json_str
    words = _Memo(_json_str)
    tags = _Memo(_json_tags)
    # UTF-8 piece by piece: joining text first makes one 2-bytes-a-character string of ~12 MB to encode.
    out: list[bytes] = []
    append = out.append

    # Each node as the JSON of ``to_read`` with "children" open; ``parent`` is the parent's id as JSON,
    # ``path`` the JSON of the ids from the root of the country down to the parent.
    def write(i: int, status: str, parent: str, path: str) -> None:
        # In ``repo.TREE_FIELDS`` order. Dates are ``YYYY-MM-DD`` text (``date``, whose str is that, in the
        # root's row when it is not active).
        (
            _,
            _,
            since,
            merged,
            name,
            level,
            kind,
            tag_text,
            own,
            code,
            established,
            decision_no,
            decided,
            version,
        ) = rows[i]
        own = f'"{repo.id_text(own)}"'
        path = f"{path},{own}" if path else own
        since = f'"{since}"'
        append(
            f'{{"id":{own},"code":{json_str(code)},"name":{json_str(name)},'
            f'"level":{words[level]},"kind":{words[kind]},"tags":{tags[tag_text]},'
            f'"parent_id":{parent},"path":[{path}],"status":{words[status]},'
            f'"established_on":"{established}","dissolved_on":{"null" if status == "active" else since},'
            f'"merged_into_id":{id_json(merged) if merged else "null"},'
            f'"decision_no":{"null" if decision_no is None else json_str(decision_no)},'
            f'"decided_on":{"null" if decided is None else quoted(decided)},'
            f'"state_since":{since},"version":{version:d},"children":['.encode()
        )
        kids = children.get(i)
        if kids:
            for child in kids:
                write(child, "active", own, path)
                append(b",")
            out[-1] = b"]}"
        else:
            append(b"]}")

    parent_node = root["parent_node"]
    above = ",".join(f'"{id_of(n)}"' for n in repo.path_nodes(root["path"])[:-1])
    write(index[root_node], root_status, f'"{id_of(parent_node)}"' if parent_node else "null", above)
    return b"".join(out), root["version"]


async def list_(
    session: AsyncSession,
    principal: Principal,
    *,
    day: dt.date,
    within: uuid.UUID | None,
    level: str | None,
    kind: str | None,
    tag: str | None,
    statuses: Sequence[str] | None,
    q: str | None,
    after_code: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    scope = await scope_path(session, principal)
    within_path = None
    if within is not None:
        ident, _ = await _visible(session, principal, within)
        within_path = (await _row_on(session, ident, day))["path"]
    rows = await repo.list_rows(
        session,
        day=day,
        within_path=within_path,
        scope_path=scope,
        level=level,
        kind=kind,
        tag=tag,
        statuses=statuses,
        q_pattern=like_pattern(q) if q else None,
        after_code=after_code,
        limit=limit,
    )
    return await to_reads(session, rows, day)


async def history(session: AsyncSession, principal: Principal, org_id: uuid.UUID) -> list[dict[str, Any]]:
    ident, _ = await _visible(session, principal, org_id)
    return [dict(r) for r in await repo.changes_of(session, ident["node"])]


# ---------------------------------------------------------------------------------------------- writing


def _parent_findings(
    rulebook: Rulebook, level: str, parent_level: str | None, day: dt.date, name: str
) -> list[Finding]:
    rule = rulebook.get("organizations.allowed_parents", day)
    allowed: list[str] = rule.value.get(level, [])
    if parent_level is None:
        if allowed:
            return [finding(rule, f"A {level} must sit under one of: {', '.join(allowed)}.")]
        return []
    if parent_level not in allowed:
        where = ", ".join(allowed) if allowed else "nothing (it is a root)"
        return [
            finding(
                rule,
                f"{name}: a {level} cannot sit under a {parent_level} on {day.isoformat()}; "
                f"allowed parents: {where}.",
            )
        ]
    return []


def _children_findings(
    rulebook: Rulebook, level: str, children: Iterable[RowMapping], day: dt.date
) -> list[Finding]:
    found: list[Finding] = []
    for child in children:
        found += _parent_findings(rulebook, child["level"], level, day, child["code"])
    return found


def _refuse(findings: list[Finding]) -> None:
    if findings:
        raise rule_violation(findings)


async def _check_date_order(session: AsyncSession, node: int, day: dt.date, what: str) -> None:
    current = await repo.current_row(session, node)
    latest = await repo.latest_change_in_subtree(session, current["path"]) if current else None
    if latest is not None and day < latest:
        raise Unprocessable(
            f"{what} is effective on {day.isoformat()}, before a change already recorded in its subtree "
            f"(effective {latest.isoformat()}); changes to a subtree are recorded in date order.",
            slug="out-of-order",
        )


async def _active_parent(
    session: AsyncSession, principal: Principal, parent_id: uuid.UUID, scope: str | None, day: dt.date
) -> RowMapping:
    return (await _placement(session, principal, parent_id, scope, day))[0]


async def _placement(
    session: AsyncSession, principal: Principal, parent_id: uuid.UUID, scope: str | None, day: dt.date
) -> tuple[RowMapping, list[RowMapping]]:
    """The parent's state on the day (active, in scope, not ending later) and its states from the day on.

    One query: the states from the day on hold the state on the day (the first, if it began by then) and
    the current one (open-ended).
    """
    states = await repo.states_of_id_from(session, parent_id, day)
    parent_now = next((s for s in states if s["valid_to"] is None), None)
    if parent_now is None:
        raise Unprocessable(f"No organization {parent_id} to sit under.", slug="unknown-parent")
    if not within_scope(parent_now["path"], scope):
        raise Problem(403, "The parent organization is outside your scope.", slug="forbidden")
    parent = next((s for s in states if s["valid_from"] <= day), None)
    if parent is None or parent["status"] != "active":
        raise Unprocessable(
            f"Organization {parent_now['code']} is not active on {day.isoformat()}.", slug="parent-not-active"
        )
    later = [s for s in states if s["status"] != "active"]
    if later:
        raise Unprocessable(
            f"Organization {parent_now['code']} ends on {later[0]['valid_from'].isoformat()}; "
            "nothing can be placed under it from an earlier date.",
            slug="parent-not-active",
        )
    return parent, states


def _audit(principal: Principal) -> dict[str, Any]:
    return {"recorded_by": principal.sub, "request_id": request_id_var.get()}


async def establish(
    session: AsyncSession, principal: Principal, rulebook: Rulebook, body: OrganizationCreate
) -> dict[str, Any]:
    require_role(principal, *WRITE_ROLES, action="establish organizations")
    day = body.established_on
    scope = await scope_path(session, principal)
    parent = None
    parent_states: list[RowMapping] = []
    if body.parent_id is not None:
        parent, parent_states = await _placement(session, principal, body.parent_id, scope, day)
    elif scope is not None:
        raise Problem(403, "Only a province-wide role may establish a root organization.", slug="forbidden")
    _refuse(_parent_findings(rulebook, body.level.value, parent["level"] if parent else None, day, body.code))
    if await repo.code_taken(session, body.code):
        raise Problem(409, f"The code {body.code} is already used.", slug="duplicate-code")
    org_id = uuid.uuid4()
    node = await repo.insert_identity(
        session,
        org_id=org_id,
        code=body.code,
        established_on=day,
        decision_no=body.decision_no,
        decided_on=body.decided_on,
    )
    state = {
        "name": body.name,
        "name_search": normalize(body.name),
        "level": body.level.value,
        "kind": body.kind.value,
        "tags": repo.tags_text(t.value for t in body.tags),
        "status": "active",
        "merged_into_node": None,
    }
    if parent is None:
        await repo.insert_version(
            session,
            node=node,
            valid_from=day,
            valid_to=None,
            parent_node=None,
            path=repo.child_path(None, node),
            depth=0,
            **state,
        )
    else:
        # Follow the parent's states from that day on, so the newcomer moves with it if it moved later.
        for seg in parent_states:
            await repo.insert_version(
                session,
                node=node,
                valid_from=max(day, seg["valid_from"]),
                valid_to=seg["valid_to"],
                parent_node=parent["node"],
                path=repo.child_path(seg["path"], node),
                depth=seg["depth"] + 1,
                **state,
            )
    after = {
        "code": body.code,
        "name": body.name,
        "level": body.level.value,
        "kind": body.kind.value,
        "tags": sorted({t.value for t in body.tags}),
        "parent_id": str(body.parent_id) if body.parent_id else None,
    }
    await repo.record_change(
        session,
        node=node,
        sequence=1,
        change="established",
        effective_on=day,
        decision_no=body.decision_no,
        decided_on=body.decided_on,
        reason=None,
        before=None,
        after=after,
        **_audit(principal),
    )
    await events.established(
        session,
        org_id=org_id,
        sequence=1,
        code=body.code,
        name=body.name,
        level=body.level.value,
        kind=body.kind.value,
        tags=after["tags"],
        parent_id=body.parent_id,
        established_on=day,
        decision_no=body.decision_no,
    )
    return await get(session, principal, org_id, day)


async def amend(
    session: AsyncSession,
    principal: Principal,
    rulebook: Rulebook,
    org_id: uuid.UUID,
    body: OrganizationUpdate,
    check_version: VersionCheck | None = None,
) -> dict[str, Any]:
    ident, _ = await _writable(session, principal, org_id, "amend organizations", check_version)
    day = body.effective_on
    row = await _row_on(session, ident, day)
    if row["status"] != "active":
        raise Unprocessable(
            f"Organization {ident['code']} is not active on {day.isoformat()}.", slug="not-active"
        )
    await _check_date_order(session, row["node"], day, "The amendment")
    before: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    state: dict[str, Any] = {}
    if body.name is not None and body.name.strip() != row["name"]:
        before["name"], changes["name"] = row["name"], body.name.strip()
        state.update(name=body.name.strip(), name_search=normalize(body.name))
    if body.kind is not None and body.kind.value != row["kind"]:
        before["kind"], changes["kind"] = row["kind"], body.kind.value
        state["kind"] = body.kind.value
    if body.tags is not None and repo.tags_text(t.value for t in body.tags) != row["tags"]:
        before["tags"], changes["tags"] = repo.tags_list(row["tags"]), sorted({t.value for t in body.tags})
        state["tags"] = repo.tags_text(changes["tags"])
    if body.level is not None and body.level.value != row["level"]:
        parent = await repo.row_at(session, row["parent_node"], day) if row["parent_node"] else None
        findings = _parent_findings(
            rulebook, body.level.value, parent["level"] if parent else None, day, ident["code"]
        )
        findings += _children_findings(
            rulebook, body.level.value, await repo.active_children(session, row["node"], day), day
        )
        _refuse(findings)
        before["level"], changes["level"] = row["level"], body.level.value
        state["level"] = body.level.value
    if not changes:
        raise Unprocessable("Nothing changes: every given field already has that value.", slug="no-change")
    await repo.new_state(session, row["node"], day, **state)
    sequence = await repo.bump_version(session, row["node"])
    await repo.record_change(
        session,
        node=row["node"],
        sequence=sequence,
        change="amended",
        effective_on=day,
        decision_no=body.decision_no,
        decided_on=body.decided_on,
        reason=None,
        before=before,
        after=changes,
        **_audit(principal),
    )
    await events.amended(
        session,
        org_id=org_id,
        sequence=sequence,
        changes=changes,
        effective_on=day,
        decision_no=body.decision_no,
    )
    return await get(session, principal, org_id, day)


async def _move_subtree(
    session: AsyncSession,
    principal: Principal,
    rulebook: Rulebook,
    row: RowMapping,
    new_parent: RowMapping,
    day: dt.date,
    decision_no: str | None,
    decided_on: dt.date | None,
    reason: str | None = None,
) -> None:
    """Move one organization (with its subtree) under ``new_parent`` from ``day``; history and event."""
    if new_parent["path"].startswith(row["path"]):
        raise Unprocessable(
            f"{row['code']} cannot move under itself or one of its descendants.", slug="cycle"
        )
    if row["parent_node"] == new_parent["node"]:
        raise Unprocessable(f"{row['code']} already sits under {new_parent['code']}.", slug="no-change")
    _refuse(_parent_findings(rulebook, row["level"], new_parent["level"], day, row["code"]))
    await _check_date_order(session, row["node"], day, f"The move of {row['code']}")
    segments = await repo.segments_from(session, new_parent["node"], day)
    await repo.rehome_subtree(
        session,
        node=row["node"],
        old_path=row["path"],
        new_parent=new_parent["node"],
        parent_segments=segments,
        day=day,
    )
    sequence = await repo.bump_version(session, row["node"])
    ids = await repo.ids_of(session, [n for n in (row["parent_node"], new_parent["node"]) if n])
    from_id = ids.get(row["parent_node"]) if row["parent_node"] else None
    await repo.record_change(
        session,
        node=row["node"],
        sequence=sequence,
        change="moved",
        effective_on=day,
        decision_no=decision_no,
        decided_on=decided_on,
        reason=reason,
        before={"parent_id": str(from_id) if from_id else None},
        after={"parent_id": str(ids[new_parent["node"]])},
        **_audit(principal),
    )
    await events.moved(
        session,
        org_id=row["id"],
        sequence=sequence,
        from_parent_id=from_id,
        to_parent_id=ids[new_parent["node"]],
        effective_on=day,
        decision_no=decision_no,
    )


async def move(
    session: AsyncSession,
    principal: Principal,
    rulebook: Rulebook,
    org_id: uuid.UUID,
    body: OrganizationMove,
    check_version: VersionCheck | None = None,
) -> dict[str, Any]:
    ident, scope = await _writable(session, principal, org_id, "move organizations", check_version)
    day = body.effective_on
    row = await _row_on(session, ident, day)
    if row["status"] != "active":
        raise Unprocessable(
            f"Organization {ident['code']} is not active on {day.isoformat()}.", slug="not-active"
        )
    new_parent = await _active_parent(session, principal, body.parent_id, scope, day)
    await _move_subtree(session, principal, rulebook, row, new_parent, day, body.decision_no, body.decided_on)
    return await get(session, principal, org_id, day)


async def merge(
    session: AsyncSession, principal: Principal, rulebook: Rulebook, body: OrganizationMerge
) -> dict[str, Any]:
    require_role(principal, *WRITE_ROLES, action="merge organizations")
    day = body.effective_on
    sources: list[RowMapping] = []
    for source_id in body.source_ids:
        ident, _ = await _visible(session, principal, source_id)
        row = await _row_on(session, ident, day)
        if row["status"] != "active":
            raise Unprocessable(
                f"Organization {ident['code']} is not active on {day.isoformat()}.", slug="not-active"
            )
        await _check_date_order(session, row["node"], day, f"The merge of {ident['code']}")
        sources.append(row)
    if body.target is not None:
        if body.target.established_on != day:
            raise Unprocessable(
                "A new target organization is established on the merge date (effective_on).",
                slug="dates-out-of-order",
            )
        created = await establish(session, principal, rulebook, body.target)
        target_id = uuid.UUID(created["id"])
    else:
        assert body.target_id is not None
        target_id = body.target_id
    target_ident, _ = await _visible(session, principal, target_id)
    target = await _row_on(session, target_ident, day)
    if target["status"] != "active":
        raise Unprocessable(
            f"The target {target['code']} is not active on {day.isoformat()}.", slug="not-active"
        )
    for source in sources:
        if source["node"] == target["node"]:
            raise Unprocessable("The target cannot be one of the sources.", slug="cycle")
        if target["path"].startswith(source["path"]):
            raise Unprocessable(
                f"The target lies inside {source['code']}, which is merged away.", slug="cycle"
            )
    for source in sources:
        for child in await repo.active_children(session, source["node"], day):
            target_now = await repo.row_at(session, target["node"], day)
            assert target_now is not None
            await _move_subtree(
                session,
                principal,
                rulebook,
                child,
                target_now,
                day,
                body.decision_no,
                body.decided_on,
                reason=f"merge of {source['code']} into {target['code']}",
            )
        await members.move_members(
            session,
            from_node=source["node"],
            to_node=target["node"],
            day=day,
            reason=f"merge of {source['code']} into {target['code']}",
            principal=principal,
            rulebook=rulebook,
            decision_no=body.decision_no,
        )
        await repo.new_state(session, source["node"], day, status="merged", merged_into_node=target["node"])
        sequence = await repo.bump_version(session, source["node"])
        await repo.record_change(
            session,
            node=source["node"],
            sequence=sequence,
            change="merged",
            effective_on=day,
            decision_no=body.decision_no,
            decided_on=body.decided_on,
            reason=None,
            before={"status": "active"},
            after={"status": "merged", "merged_into_id": str(target_id)},
            **_audit(principal),
        )
    sequence = await repo.bump_version(session, target["node"])
    await repo.record_change(
        session,
        node=target["node"],
        sequence=sequence,
        change="merge_target",
        effective_on=day,
        decision_no=body.decision_no,
        decided_on=body.decided_on,
        reason=None,
        before=None,
        after={"source_ids": [str(s["id"]) for s in sources]},
        **_audit(principal),
    )
    await events.merged(
        session,
        target_id=target_id,
        sequence=sequence,
        source_ids=[s["id"] for s in sources],
        effective_on=day,
        decision_no=body.decision_no,
    )
    return await get(session, principal, target_id, day)


async def dissolve(
    session: AsyncSession,
    principal: Principal,
    rulebook: Rulebook,
    org_id: uuid.UUID,
    body: OrganizationDissolve,
    check_version: VersionCheck | None = None,
) -> dict[str, Any]:
    ident, scope = await _writable(session, principal, org_id, "dissolve organizations", check_version)
    day = body.effective_on
    row = await _row_on(session, ident, day)
    if row["status"] != "active":
        raise Unprocessable(
            f"Organization {ident['code']} is not active on {day.isoformat()}.", slug="not-active"
        )
    await _check_date_order(session, row["node"], day, "The dissolution")
    children = await repo.active_children(session, row["node"], day)
    if children:
        if body.transfer_to is None:
            raise Unprocessable(
                f"{ident['code']} still has {len(children)} active organization(s) under it "
                f"on {day.isoformat()}; "
                "name where they go with transfer_to.",
                slug="has-active-children",
                children=[c["code"] for c in children[:50]],
            )
        receiver = await _active_parent(session, principal, body.transfer_to, scope, day)
        if receiver["path"].startswith(row["path"]):
            raise Unprocessable(
                "transfer_to cannot be the dissolved organization or lie under it.", slug="cycle"
            )
        for child in children:
            receiver = await _active_parent(session, principal, body.transfer_to, scope, day)
            await _move_subtree(
                session,
                principal,
                rulebook,
                child,
                receiver,
                day,
                body.decision_no,
                body.decided_on,
                reason=f"dissolution of {ident['code']}",
            )
    if await members.active_member_count(session, row["node"], day):
        if body.transfer_to is None:
            raise Unprocessable(
                f"{ident['code']} still has active members on {day.isoformat()}; "
                "name where they go with transfer_to.",
                slug="has-active-members",
            )
        receiver = await _active_parent(session, principal, body.transfer_to, scope, day)
        if receiver["node"] == row["node"]:
            raise Unprocessable("transfer_to cannot be the dissolved organization.", slug="cycle")
        await members.move_members(
            session,
            from_node=row["node"],
            to_node=receiver["node"],
            day=day,
            reason=f"dissolution of {ident['code']}",
            principal=principal,
            rulebook=rulebook,
            decision_no=body.decision_no,
        )
    await repo.new_state(session, row["node"], day, status="dissolved")
    sequence = await repo.bump_version(session, row["node"])
    await repo.record_change(
        session,
        node=row["node"],
        sequence=sequence,
        change="dissolved",
        effective_on=day,
        decision_no=body.decision_no,
        decided_on=body.decided_on,
        reason=body.reason,
        before={"status": "active"},
        after={"status": "dissolved"},
        **_audit(principal),
    )
    await events.dissolved(
        session,
        org_id=org_id,
        sequence=sequence,
        effective_on=day,
        decision_no=body.decision_no,
        reason=body.reason,
    )
    return await get(session, principal, org_id, day)
