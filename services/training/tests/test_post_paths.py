"""Posts carry their organization's path (``post_projection.org_path``) for the needs of a subtree: it follows
the organization's moves, is filled in when the organization arrives after its posts, and a post whose
organization was looked up over HTTP (no path copied yet) is still found by its organization's path. Both
ways of finding a page of needs (from the subtree's posts, walking the cadres) give the same answers."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from services.training.needs import repository
from services.training.projections.models import ProjectedPost
from services.training.projections.orgs import apply_org_event
from services.training.tests.support import Training
from shared.cloudevents import CloudEvent
from shared.orgtree import repository as orgtree_repo
from shared.orgtree.models import ProjectedOrganization

STRATEGIES = {"from the posts": repository.POSTS_FROM_SUBTREE, "walking the cadres": 0}


async def org_event(training: Training, name: str, data: dict[str, Any], sequence: int) -> None:
    event = CloudEvent(
        id=str(uuid.uuid4()),
        source="/tochuc/orgs",
        type=f"vn.tochuc.orgs.organization.{name}.v1",
        subject=str(data["id"]),
        sequence=sequence,
        data=data,
    )
    async with training.svc.app.state.db.transaction() as s:
        await apply_org_event(s, event)


async def needy(training: Training, within: str) -> list[tuple[str, list[str]]]:
    """(cadre, its posts) in need on 2026-01-01 within the organization ``within``."""
    r = await training.client.get(
        f"/v1/training-needs?as_of=2026-01-01&within={training.orgs[within]}", headers=training.auth()
    )
    assert r.status_code == 200, r.text
    return [(i["cadre_id"], [p["post_id"] for p in i["posts"]]) for i in r.json()["items"]]


async def paths(training: Training) -> dict[str, str | None]:
    """Each post's copied path, and the path of its organization in the projection."""
    T, P = ProjectedPost.__table__, ProjectedOrganization.__table__
    async with training.svc.app.state.db.transaction() as s:
        rows = list(
            await s.execute(select(T.c.id, T.c.org_path, P.c.path).outerjoin(P, P.c.id == T.c.org_id))
        )
        return {str(post): copied for post, copied, _ in rows} | {
            f"{post} of its organization": path for post, _, path in rows
        }


@pytest.mark.parametrize("posts_from_subtree", STRATEGIES.values(), ids=STRATEGIES.keys())
async def test_post_paths_follow_a_moved_organization(
    training: Training, monkeypatch: pytest.MonkeyPatch, posts_from_subtree: int
) -> None:
    monkeypatch.setattr(repository, "POSTS_FROM_SUBTREE", posts_from_subtree)
    await training.tree()  # P > A, B; A > X
    await training.org("Y", "cell", "X")
    secretary = await training.post("X", "Bí thư Đảng ủy xã", "secretary", "advanced")
    cell = await training.post("Y", "Bí thư chi bộ", "secretary", "intermediate")
    elsewhere = await training.post("B", "Trưởng ban", "head", "advanced")
    holder = await training.cadre("X", "Lê Văn Cường", level="elementary")
    planned = await training.cadre("B", "Đỗ Thị Bích", level="elementary")
    await training.hold(holder, secretary, "X", "2025-01-01")
    await training.plan(planned, cell, "2025-03-01")
    await training.hold(planned, elsewhere, "B", "2024-01-01")
    assert await needy(training, "A") == [(planned, [cell]), (holder, [secretary])]
    assert await needy(training, "B") == [(planned, [elsewhere])]

    # X (and Y under it) moves from A to B: its posts' paths follow, and so do the subtrees' needs
    await org_event(
        training, "moved", {"id": str(training.orgs["X"]), "to_parent_id": str(training.orgs["B"])}, 2
    )
    copied = await paths(training)
    for post in (secretary, cell, elsewhere):
        assert copied[post] == copied[f"{post} of its organization"]
    assert copied[cell].startswith(copied[secretary])
    assert await needy(training, "A") == []
    assert await needy(training, "B") == [(planned, [elsewhere, cell]), (holder, [secretary])]
    assert await needy(training, "Y") == [(planned, [cell])]

    # a stale move changes nothing
    await org_event(
        training, "moved", {"id": str(training.orgs["X"]), "to_parent_id": str(training.orgs["A"])}, 2
    )
    assert await paths(training) == copied


@pytest.mark.parametrize("posts_from_subtree", STRATEGIES.values(), ids=STRATEGIES.keys())
async def test_posts_of_an_organization_that_arrives_later(
    training: Training, monkeypatch: pytest.MonkeyPatch, posts_from_subtree: int
) -> None:
    monkeypatch.setattr(repository, "POSTS_FROM_SUBTREE", posts_from_subtree)
    await training.tree()
    late, looked_up = uuid.uuid4(), uuid.uuid4()
    training.orgs["L"], training.orgs["U"] = late, looked_up
    first = await training.post("L", "Bí thư L", "secretary", "advanced")
    second = await training.post("U", "Bí thư U", "secretary", "advanced")
    cadre = await training.cadre("X", "Lê Văn Cường", level="elementary")
    await training.hold(cadre, first, "L", "2025-01-01")
    await training.hold(cadre, second, "U", "2025-01-01")
    assert (await paths(training))[first] is None
    assert await needy(training, "A") == []

    # U is looked up over HTTP (straight into the organization projection): its post has no path copied,
    # and is found by its organization's
    async with training.svc.app.state.db.transaction() as s:
        parent = await orgtree_repo.by_id(s, training.orgs["A"])
        assert parent is not None
        values = {
            "id": looked_up, "code": "U", "name": "Chi bộ U", "level": "cell", "kind": "agency", "tags": "",
            "parent_id": training.orgs["A"], "established_on": dt.date(2020, 1, 1),
            "status": "active", "sequence": 1,
        }  # fmt: skip
        await orgtree_repo.insert_org(s, parent_path=parent["path"], values=values)
    assert (await paths(training))[second] is None
    assert await needy(training, "A") == [(cadre, [second])]

    # L's event arrives: its post takes its path
    established = {
        "id": str(late), "code": "L", "name": "Chi bộ L", "level": "cell", "kind": "agency", "tags": [],
        "parent_id": str(training.orgs["A"]), "established_on": "2020-01-01",
    }  # fmt: skip
    await org_event(training, "established", established, 1)
    copied = await paths(training)
    assert copied[first] == copied[f"{first} of its organization"]
    assert copied[first] is not None
    assert await needy(training, "A") == [(cadre, [first, second])]
    assert await needy(training, "L") == [(cadre, [first])]
    assert await needy(training, "B") == []
