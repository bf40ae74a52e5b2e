"""Contract test: the events the services really write hold against ``docs/asyncapi.yaml``.

The orgs app runs in-process on a fresh database; the test drives every organization operation through the
HTTP API, then validates each row of the ``outbox`` table (the exact body and headers the relay publishes)
against the message of its type in the AsyncAPI document (JSON Schema Draft 2020-12, ``$ref``s resolved
within the document, formats checked). A change of an event's shape fails here until the document (the
public contract) says so too.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import select

from services.orgs.app import create_app
from shared.outbox import outbox
from shared.testing.service import ServiceHarness

DOC_PATH = Path(__file__).resolve().parents[1] / "docs" / "asyncapi.yaml"
DOC_URI = "urn:tochuc:asyncapi"
SENSITIVE_FIELDS = frozenset({"national_id", "ethnicity", "religion"})
ORGANIZATION_EVENTS = frozenset(
    f"vn.tochuc.orgs.organization.{change}.v1"
    for change in ("established", "amended", "moved", "merged", "dissolved")
)
# The v1 catalogue of the events spec: every type keeps its channel.
CATALOGUE = frozenset(
    "vn.tochuc." + short
    for short in (
        "orgs.organization.established.v1",
        "orgs.organization.amended.v1",
        "orgs.organization.moved.v1",
        "orgs.organization.merged.v1",
        "orgs.organization.dissolved.v1",
        "orgs.organization.rated.v1",
        "orgs.member.admitted.v1",
        "orgs.member.recognized.v1",
        "orgs.member.transferred.v1",
        "orgs.member.exempted.v1",
        "orgs.member.departed.v1",
        "orgs.member.rated.v1",
        "orgs.document.registered.v1",
        "cadres.cadre.registered.v1",
        "cadres.cadre.updated.v1",
        "cadres.post.defined.v1",
        "cadres.personnel_action.recorded.v1",
        "cadres.assignment.started.v1",
        "cadres.assignment.ended.v1",
        "cadres.plan.added.v1",
        "cadres.plan.removed.v1",
        "cadres.payroll.set.v1",
        "training.course.scheduled.v1",
        "training.enrollment.created.v1",
        "training.enrollment.completed.v1",
        "training.enrollment.failed.v1",
        "training.enrollment.withdrawn.v1",
        "training.qualification.attained.v1",
    )
)
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


# ------------------------------------------------------------------------------------------- the document


@cache
def document() -> dict[str, Any]:
    return yaml.safe_load(DOC_PATH.read_text(encoding="utf-8"))


@cache
def registry() -> Registry:
    return Registry().with_resource(
        DOC_URI, Resource.from_contents(document(), default_specification=DRAFT202012)
    )


def resolve(node: Any) -> Any:
    """Follow local ``$ref``s (``#/a/b``) until a node that is not a reference."""
    while isinstance(node, dict) and "$ref" in node:
        node = pointer_get(node["$ref"].removeprefix("#"))
    return node


def pointer_get(pointer: str) -> Any:
    node: Any = document()
    for part in pointer.lstrip("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def validator(pointer: str) -> Draft202012Validator:
    """A validator for the schema at ``pointer`` of the document, its ``$ref``s resolved in the document."""
    return Draft202012Validator(
        {"$ref": f"{DOC_URI}#{pointer}"},
        registry=registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def type_const(payload_schema: dict[str, Any]) -> str:
    """The CloudEvents ``type`` a message payload schema fixes (``const`` in one of its ``allOf`` parts)."""
    for part in payload_schema.get("allOf", [payload_schema]):
        const = resolve(part).get("properties", {}).get("type", {}).get("const")
        if const:
            return str(const)
    raise AssertionError(f"payload schema fixes no type: {payload_schema}")


def messages_by_type() -> dict[str, dict[str, str]]:
    """CloudEvents type -> the channel address and the JSON pointers of its payload and headers schemas."""
    found: dict[str, dict[str, str]] = {}
    for channel_id, channel in document()["channels"].items():
        for name, message_ref in channel["messages"].items():
            pointer = message_ref["$ref"].removeprefix("#")
            message = pointer_get(pointer)
            ce_type = type_const(message["payload"])
            assert ce_type not in found, f"{ce_type} has two channels"
            headers_at = f"{pointer}/headers"
            for i, trait in enumerate(message.get("traits", [])):
                if "headers" in resolve(trait):
                    at = trait["$ref"].removeprefix("#") if "$ref" in trait else f"{pointer}/traits/{i}"
                    headers_at = f"{at}/headers"
            found[ce_type] = {
                "channel": channel_id,
                "address": channel["address"],
                "message": name,
                "payload": f"{pointer}/payload",
                "headers": headers_at,
            }
    return found


def keys_anywhere(value: Any) -> Iterator[str]:
    """Every object key at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from keys_anywhere(item)
    elif isinstance(value, list):
        for item in value:
            yield from keys_anywhere(item)


def example_event(message: dict[str, str]) -> dict[str, Any]:
    """A copy of the first example of a message (found by :func:`messages_by_type`)."""
    examples = pointer_get(message["payload"].removesuffix("/payload")).get("examples") or [{}]
    return copy.deepcopy(examples[0].get("payload", {}))


def errors(pointer: str, instance: Any) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator(pointer).iter_errors(instance)]


# ------------------------------------------------------------------------------------------- the service


class Orgs:
    """Calls the orgs API as an admin and remembers ids by code."""

    def __init__(self, svc: ServiceHarness) -> None:
        self.svc = svc
        self.headers = {**svc.auth(["admin"]), "traceparent": TRACEPARENT}
        self.ids: dict[str, str] = {}

    async def call(self, method: str, path: str, body: dict[str, Any], expected: int = 200) -> dict[str, Any]:
        response = await self.svc.client.request(method, path, json=body, headers=self.headers)
        assert response.status_code == expected, response.text
        return response.json()

    async def establish(self, code: str, level: str, parent: str | None, on: str, **extra: Any) -> str:
        body = {
            "code": code,
            "name": f"Đảng bộ {code}",
            "level": level,
            "kind": "agency",
            "established_on": on,
            **extra,
        }
        if parent is not None:
            body["parent_id"] = self.ids[parent]
        self.ids[code] = (await self.call("POST", "/v1/organizations", body, 201))["id"]
        return self.ids[code]

    async def outbox_rows(self) -> list[dict[str, Any]]:
        async with self.svc.app.state.db.session() as session:
            result = await session.execute(select(outbox).order_by(outbox.c.seq))
            return [dict(row) for row in result.mappings().all()]


async def drive_every_organization_change(orgs: Orgs) -> None:
    """Establish, amend, move, merge (existing and new target), dissolve (with and without transfer_to)."""
    await orgs.establish("NA", "province", None, "2020-01-01", name="Đảng bộ tỉnh Nghệ An")
    await orgs.establish(
        "NA.HD", "upper_grassroots", "NA", "2020-01-01", decision_no="12-QĐ/TU", decided_on="2019-12-20"
    )
    await orgs.establish("NA.TC", "upper_grassroots", "NA", "2020-01-01")
    await orgs.establish(
        "NA.HD.XA",
        "grassroots_committee",
        "NA.HD",
        "2020-02-01",
        kind="commune",
        tags=["ethnic_minority_area", "difficult_area"],
    )
    await orgs.establish("NA.HD.XA.C1", "cell", "NA.HD.XA", "2020-03-01", kind="residential")
    await orgs.establish("NA.HD.XD", "grassroots_committee", "NA.HD", "2020-02-01", kind="commune")
    await orgs.establish("NA.TC.XB", "grassroots_committee", "NA.TC", "2020-02-01", kind="commune")
    await orgs.establish("NA.TC.XB.C2", "cell", "NA.TC.XB", "2020-03-01", kind="residential")
    await orgs.establish("NA.TC.XC", "grassroots_committee", "NA.TC", "2020-02-01", kind="commune")
    ids = orgs.ids

    await orgs.call(
        "PATCH",
        f"/v1/organizations/{ids['NA.HD.XA']}",
        {
            "name": "Đảng bộ xã Hưng Đạo",
            "kind": "ward",
            "tags": ["border_area"],
            "effective_on": "2021-01-01",
            "decision_no": "30-QĐ/HU",
        },
    )
    await orgs.call(
        "PATCH",
        f"/v1/organizations/{ids['NA.TC.XC']}",
        {"level": "grassroots_cell", "tags": [], "effective_on": "2021-01-01"},
    )
    await orgs.call(
        "POST",
        f"/v1/organizations/{ids['NA.HD.XA']}/move",
        {"parent_id": ids["NA.TC"], "effective_on": "2022-01-01", "decision_no": "41-QĐ/TU"},
    )
    await orgs.call(
        "POST",
        "/v1/organizations/merge",
        {
            "source_ids": [ids["NA.TC.XB"]],
            "target_id": ids["NA.HD.XA"],
            "effective_on": "2023-01-01",
            "decision_no": "52-QĐ/TU",
        },
    )
    merged = await orgs.call(
        "POST",
        "/v1/organizations/merge",
        {
            "source_ids": [ids["NA.HD.XA"], ids["NA.TC.XC"]],
            "target": {
                "code": "NA.TC.XE",
                "name": "Đảng bộ xã Hưng Thành",
                "level": "grassroots_committee",
                "kind": "commune",
                "parent_id": ids["NA.TC"],
                "tags": ["difficult_area"],
                "established_on": "2024-01-01",
            },
            "effective_on": "2024-01-01",
        },
    )
    ids["NA.TC.XE"] = merged["id"]
    await orgs.call(
        "POST",
        f"/v1/organizations/{ids['NA.HD.XD']}/dissolve",
        {"effective_on": "2024-06-01", "reason": "Không còn đảng viên"},
    )
    await orgs.call(
        "POST",
        f"/v1/organizations/{ids['NA.TC']}/dissolve",
        {"effective_on": "2024-06-01", "transfer_to": ids["NA.HD"], "decision_no": "77-QĐ/TU"},
    )


# ------------------------------------------------------------------------------------------------ tests


async def test_every_outbox_event_matches_its_asyncapi_message(run_service: Any) -> None:
    by_type = messages_by_type()
    async with run_service("orgs", create_app) as svc:
        orgs = Orgs(svc)
        await drive_every_organization_change(orgs)
        rows = await orgs.outbox_rows()

    emitted = {json.loads(row["payload"])["type"] for row in rows}
    assert emitted == ORGANIZATION_EVENTS, "every organization change was driven and nothing else was emitted"
    last_sequence: dict[str, int] = {}
    for row in rows:
        event = json.loads(row["payload"])
        ce_type = event["type"]
        assert ce_type in by_type, f"{ce_type} has no channel in docs/asyncapi.yaml"
        message = by_type[ce_type]
        assert row["subject"] == ce_type.removeprefix("vn.") == message["address"]
        assert event["id"] == row["id"]
        assert errors(message["payload"], event) == [], f"{ce_type} does not match its message: {event}"
        headers = {"Nats-Msg-Id": row["id"], **(row["headers"] or {})}  # as the relay publishes them
        assert headers.get("traceparent") == TRACEPARENT
        assert errors(message["headers"], headers) == []
        assert not SENSITIVE_FIELDS & set(keys_anywhere(event)), event
        # Per aggregate, the outbox order is the sequence order.
        assert event["sequence"] > last_sequence.get(event["subject"], 0), event
        last_sequence[event["subject"]] = event["sequence"]


async def test_rating_and_document_events_match_their_messages(run_service: Any) -> None:
    """Organization ratings (a correction included) and document registrations, against their messages."""
    wanted = {"vn.tochuc.orgs.organization.rated.v1", "vn.tochuc.orgs.document.registered.v1"}
    by_type = messages_by_type()
    async with run_service("orgs", create_app) as svc:
        orgs = Orgs(svc)
        await orgs.establish("NA", "province", None, "2020-01-01", name="Đảng bộ tỉnh Nghệ An")
        await orgs.establish("NA.HD", "upper_grassroots", "NA", "2020-01-01")
        rating = f"/v1/organizations/{orgs.ids['NA.HD']}/ratings"
        await orgs.call("PUT", f"{rating}/2024", {"rating": "good"})
        await orgs.call("PUT", f"{rating}/2024", {"rating": "excellent"})
        await orgs.call("PUT", f"{rating}/2025", {"rating": "failed"})
        document = {"kind": "conclusion", "title": "Kết luận về công tác cán bộ", "issued_on": "2022-03-15"}
        await orgs.call(
            "POST", "/v1/documents", {**document, "number": "189-KL/TU", "issuer_org_id": orgs.ids["NA"]}, 201
        )
        await orgs.call("POST", "/v1/documents", {**document, "number": "7-BC", "kind": "report"}, 201)
        rows = await orgs.outbox_rows()

    events = [json.loads(row["payload"]) for row in rows]
    assert Counter(e["type"] for e in events if e["type"] in wanted) == {
        "vn.tochuc.orgs.organization.rated.v1": 3,
        "vn.tochuc.orgs.document.registered.v1": 2,
    }
    last_sequence: dict[str, int] = {}
    for row, event in zip(rows, events, strict=True):
        message = by_type[event["type"]]
        assert row["subject"] == event["type"].removeprefix("vn.") == message["address"]
        assert event["id"] == row["id"]
        assert errors(message["payload"], event) == [], f"{event['type']} does not match its message: {event}"
        headers = {"Nats-Msg-Id": row["id"], **(row["headers"] or {})}
        assert headers.get("traceparent") == TRACEPARENT and errors(message["headers"], headers) == []
        assert not SENSITIVE_FIELDS & set(keys_anywhere(event)), event
        # A rating is a change of the organization: it continues the organization's sequence.
        assert event["sequence"] == last_sequence.get(event["subject"], 0) + 1, event
        last_sequence[event["subject"]] = event["sequence"]


async def test_established_tags_are_a_set(run_service: Any) -> None:
    """Tags are a set: the event must not repeat one that the request repeated."""
    async with run_service("orgs", create_app) as svc:
        orgs = Orgs(svc)
        await orgs.establish("NA", "province", None, "2020-01-01", tags=["border_area", "border_area"])
        (row,) = await orgs.outbox_rows()
    event = json.loads(row["payload"])
    assert errors(messages_by_type()[event["type"]]["payload"], event) == [], event["data"]


def test_every_catalogue_type_has_a_channel_and_a_send_operation() -> None:
    by_type = messages_by_type()
    assert set(by_type) == CATALOGUE
    sent = {
        op["channel"]["$ref"].removeprefix("#/channels/")
        for op in document()["operations"].values()
        if op["action"] == "send"
    }
    for ce_type, message in by_type.items():
        assert message["address"] == ce_type.removeprefix("vn."), ce_type
        assert message["channel"] in sent, f"nobody sends {ce_type}"


def test_every_example_matches_its_message() -> None:
    for ce_type, message in messages_by_type().items():
        examples = pointer_get(message["payload"].removesuffix("/payload")).get("examples", [])
        assert examples, f"{ce_type} has no example"
        for example in examples:
            assert errors(message["payload"], example["payload"]) == [], ce_type
            assert example["payload"]["type"] == ce_type


def test_no_message_schema_admits_sensitive_fields() -> None:
    assert not SENSITIVE_FIELDS & set(keys_anywhere(document()["components"]["schemas"]))
    for ce_type, message in messages_by_type().items():
        event = example_event(message)
        for field in SENSITIVE_FIELDS:
            event["data"][field] = "x"
            assert errors(message["payload"], event), f"{ce_type} accepts {field}"
            del event["data"][field]


@pytest.mark.parametrize(
    ("what", "change"),
    [
        ("a new data field", lambda e: e["data"].update(extra=1)),
        ("a missing data field", lambda e: e["data"].pop("decision_no")),
        ("tags as text", lambda e: e["data"].update(tags="difficult_area")),
        ("an unknown level", lambda e: e["data"].update(level="district")),
        ("a date with a time", lambda e: e["data"].update(established_on="2020-01-01T00:00:00Z")),
        ("a parent that is not a uuid", lambda e: e["data"].update(parent_id="NA")),
        ("another type", lambda e: e.update(type="vn.tochuc.orgs.organization.amended.v1")),
        ("a new envelope attribute", lambda e: e.update(traceparent=TRACEPARENT)),
        ("no sequence", lambda e: e.pop("sequence")),
    ],
)
def test_a_changed_shape_is_refused(what: str, change: Any) -> None:
    """The schemas are tight enough that a change of shape fails the contract test."""
    message = messages_by_type()["vn.tochuc.orgs.organization.established.v1"]
    event = example_event(message)
    assert errors(message["payload"], event) == []
    change(event)
    assert errors(message["payload"], event), f"{what} was accepted"


MEMBER_EVENTS = frozenset(
    f"vn.tochuc.orgs.member.{change}.v1"
    for change in ("admitted", "recognized", "transferred", "exempted", "departed", "rated")
)


async def drive_every_member_change(orgs: Orgs) -> None:
    """Admit (with sensitive fields), recognize, transfer officially and temporarily, exempt, depart, rate,
    and a dissolution that carries members (one transferred event per member)."""
    await orgs.establish("NA", "province", None, "2020-01-01")
    await orgs.establish("NA.HD", "upper_grassroots", "NA", "2020-01-01")
    await orgs.establish("NA.XA", "grassroots_committee", "NA.HD", "2020-01-01", kind="commune")
    for code in ("NA.XA.C1", "NA.XA.C2", "NA.XA.C3"):
        await orgs.establish(code, "cell", "NA.XA", "2020-01-01", kind="residential")
    ids = orgs.ids
    member_ids = []
    for name, gender in (("Nguyễn Thị Lan", "female"), ("Lò Văn Páo", "male")):
        member = await orgs.call(
            "POST",
            "/v1/members",
            {
                "full_name": name,
                "birth_date": "1990-04-12",
                "gender": gender,
                "org_id": ids["NA.XA.C1"],
                "admitted_on": "2021-05-19",
                "ethnicity": "Thái",
                "religion": "Không",
                "national_id": "040190000123",
                "member_no": f"00000{len(member_ids)}NA",
            },
            201,
        )
        member_ids.append(member["id"])
    lan, pao = member_ids
    await orgs.call("POST", f"/v1/members/{lan}/recognition", {"recognized_on": "2022-05-19", "card_no": "1"})
    await orgs.call(
        "POST",
        f"/v1/members/{lan}/transfers",
        {
            "to_org_id": ids["NA.XA.C2"],
            "kind": "temporary",
            "effective_on": "2022-06-01",
            "until": "2023-06-01",
        },
    )
    await orgs.call(
        "POST",
        f"/v1/members/{lan}/transfers",
        {"to_org_id": ids["NA.XA.C2"], "kind": "official", "effective_on": "2023-07-01"},
    )
    await orgs.call(
        "POST", f"/v1/members/{lan}/exemption", {"effective_on": "2024-01-01", "reason": "ốm đau"}
    )
    await orgs.call("PUT", f"/v1/members/{lan}/ratings/2023", {"rating": "excellent"})
    await orgs.call("PUT", f"/v1/members/{pao}/ratings/2023", {"rating": "completed"})
    await orgs.call(
        "POST",
        f"/v1/organizations/{ids['NA.XA.C1']}/dissolve",
        {"effective_on": "2024-06-01", "transfer_to": ids["NA.XA.C3"]},
    )
    await orgs.call(
        "POST", f"/v1/members/{lan}/departure", {"reason": "withdrawn", "effective_on": "2025-02-01"}
    )


async def test_every_member_event_matches_its_asyncapi_message(run_service: Any) -> None:
    by_type = messages_by_type()
    async with run_service("orgs", create_app) as svc:
        orgs = Orgs(svc)
        await drive_every_member_change(orgs)
        rows = await orgs.outbox_rows()

    events = [json.loads(row["payload"]) for row in rows]
    member_events = [e for e in events if e["type"] in MEMBER_EVENTS]
    assert {e["type"] for e in member_events} == MEMBER_EVENTS, "every member change was driven"
    carried = [
        e
        for e in member_events
        if e["type"].endswith(".transferred.v1") and e["data"]["effective_on"] == "2024-06-01"
    ]
    assert len(carried) == 1 and carried[0]["data"]["kind"] == "official"  # Páo, carried by the dissolution
    last_sequence: dict[str, int] = {}
    for row, event in zip(rows, events, strict=True):
        message = by_type[event["type"]]
        assert row["subject"] == event["type"].removeprefix("vn.") == message["address"]
        assert errors(message["payload"], event) == [], f"{event['type']} does not match its message: {event}"
        assert errors(message["headers"], {"Nats-Msg-Id": row["id"], **(row["headers"] or {})}) == []
        assert not SENSITIVE_FIELDS & set(keys_anywhere(event)), event
        assert "Thái" not in row["payload"] and "040190000123" not in row["payload"]
        assert event["sequence"] > last_sequence.get(event["subject"], 0), event
        last_sequence[event["subject"]] = event["sequence"]


async def test_personnel_action_and_assignment_events_match_their_messages(
    run_service: Any, tmp_path: Path
) -> None:
    """cadres' personnel actions and the assignments they start and end (a rotation's planned end, and an
    early end of it, included), against their messages. Dates before the appointment rules of 2022-08-18."""
    import httpx

    from services.cadres.app import create_app as create_cadres

    wanted = {
        "vn.tochuc.cadres.personnel_action.recorded.v1",
        "vn.tochuc.cadres.assignment.started.v1",
        "vn.tochuc.cadres.assignment.ended.v1",
    }
    by_type = messages_by_type()
    async with run_service("orgs", create_app, data_dir=tmp_path / "data") as svc:
        orgs = Orgs(svc)
        await orgs.establish("NA", "province", None, "2020-01-01")
        await orgs.establish("NA.HD", "upper_grassroots", "NA", "2020-01-01")
        await orgs.establish("NA.TC", "upper_grassroots", "NA", "2020-01-01")
        async with run_service("cadres", create_cadres, data_dir=tmp_path / "data") as cadres:
            directory = cadres.app.state.org_directory
            await directory.client.aclose()
            directory.client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=svc.app), base_url="http://orgs"
            )
            headers = {**cadres.auth(["personnel"]), "traceparent": TRACEPARENT}

            async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
                response = await cadres.client.post(path, json=body, headers=headers)
                assert response.status_code == 201, response.text
                return dict(response.json())

            posts = {}
            for key, org, category in (("head", "NA.HD", "head"), ("vice", "NA.TC", "vice_chair"),
                                       ("chair", "NA.HD", "chair")):  # fmt: skip
                body = {"org_id": orgs.ids[org], "title": f"Chức danh {key}", "category": category}
                posts[key] = (await post("/v1/posts", body))["id"]
            cadre = await post(
                "/v1/cadres",
                {"full_name": "Nguyễn Văn An", "birth_date": "1980-05-01", "gender": "male",
                 "org_id": orgs.ids["NA.HD"], "education": "master", "declared_theory_level": "advanced",
                 "national_id": "040180000123"},
            )  # fmt: skip
            amended = await cadres.client.patch(
                f"/v1/cadres/{cadre['id']}",
                headers=headers,
                json={"education": "doctor", "national_id": "040180000999"},
            )
            assert amended.status_code == 200, amended.text  # cadres.cadre.updated, without the national id
            for kind, key, on, extra in (
                ("arrangement", "head", "2021-01-04", {}),
                ("rotation", "vice", "2021-03-01", {"ends_on": "2022-03-01"}),
                ("appointment", "chair", "2021-06-01", {}),
                ("dismissal", "vice", "2021-09-01", {}),
                ("appointment_opinion", None, "2021-10-01", {"to_org_id": orgs.ids["NA"]}),
            ):
                body = {"kind": kind, "cadre_id": cadre["id"], "decision_no": "1-QĐ/TU", "decided_on": on,
                        "effective_on": on, **extra}  # fmt: skip
                if key:
                    body["post_id"] = posts[key]
                await post("/v1/personnel-actions", body)
            async with cadres.app.state.db.session() as session:
                result = await session.execute(select(outbox).order_by(outbox.c.seq))
                rows = [dict(row) for row in result.mappings().all()]

    events = [json.loads(row["payload"]) for row in rows]
    assert {
        "vn.tochuc.cadres.cadre.registered.v1",
        "vn.tochuc.cadres.cadre.updated.v1",
        "vn.tochuc.cadres.post.defined.v1",
    } <= {e["type"] for e in events}
    assert Counter(e["type"] for e in events if e["type"] in wanted) == {
        "vn.tochuc.cadres.personnel_action.recorded.v1": 5,
        "vn.tochuc.cadres.assignment.started.v1": 3,
        "vn.tochuc.cadres.assignment.ended.v1": 3,  # head (by the rotation), the rotation planned, then early
    }
    last_sequence: dict[str, int] = {}
    for row, event in zip(rows, events, strict=True):
        message = by_type[event["type"]]
        assert row["subject"] == event["type"].removeprefix("vn.") == message["address"]
        assert errors(message["payload"], event) == [], f"{event['type']} does not match its message: {event}"
        headers = {"Nats-Msg-Id": row["id"], **(row["headers"] or {})}
        assert headers.get("traceparent") == TRACEPARENT and errors(message["headers"], headers) == []
        assert not SENSITIVE_FIELDS & set(keys_anywhere(event)), event
        assert "040180000123" not in row["payload"] and "040180000999" not in row["payload"]
        assert event["sequence"] > last_sequence.get(event["subject"], 0), event
        last_sequence[event["subject"]] = event["sequence"]


async def test_plan_and_payroll_events_match_their_messages(run_service: Any, tmp_path: Path) -> None:
    """cadres' plan entries (added plainly and with acknowledged findings, removed by hand and by a
    disciplinary measure) and payroll entries (a correction included), against their messages."""
    import httpx

    from services.cadres.app import create_app as create_cadres

    wanted = {
        "vn.tochuc.cadres.plan.added.v1",
        "vn.tochuc.cadres.plan.removed.v1",
        "vn.tochuc.cadres.payroll.set.v1",
    }
    by_type = messages_by_type()
    async with run_service("orgs", create_app, data_dir=tmp_path / "data") as svc:
        orgs = Orgs(svc)
        await orgs.establish("NA", "province", None, "2020-01-01")
        await orgs.establish("NA.HD", "upper_grassroots", "NA", "2020-01-01")
        async with run_service("cadres", create_cadres, data_dir=tmp_path / "data") as cadres:
            directory = cadres.app.state.org_directory
            await directory.client.aclose()
            directory.client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=svc.app), base_url="http://orgs"
            )
            headers = {**cadres.auth(["personnel"]), "traceparent": TRACEPARENT}

            async def call(method: str, path: str, body: dict[str, Any], expected: int = 201) -> Any:
                response = await cadres.client.request(method, path, json=body, headers=headers)
                assert response.status_code == expected, response.text
                return response.json()

            posts = []
            for org, title, category in (
                ("NA.HD", "Bí thư", "secretary"),
                ("NA", "Phó Bí thư", "deputy_secretary"),
            ):
                body = {"org_id": orgs.ids[org], "title": title, "category": category}
                posts.append((await call("POST", "/v1/posts", body))["id"])
            cadre = await call(
                "POST",
                "/v1/cadres",
                {"full_name": "Nguyễn Văn An", "birth_date": "1980-05-01", "gender": "male",
                 "org_id": orgs.ids["NA.HD"], "education": "master", "declared_theory_level": "advanced",
                 "national_id": "040180000123"},
            )  # fmt: skip
            plan = {"cadre_id": cadre["id"], "term": "2025-2030", "added_on": "2025-11-01"}
            first = await call("POST", "/v1/plans", {**plan, "post_id": posts[0]})
            await call(
                "POST",
                "/v1/plans",
                {**plan, "post_id": posts[1], "acknowledged_findings": {"reason": "no finding expected"}},
            )
            await call(
                "POST",
                f"/v1/plans/{first['plan']['id']}/removal",
                {"removed_on": "2026-01-15", "reason": "Annual review"},
                200,
            )
            await call(
                "POST",
                f"/v1/cadres/{cadre['id']}/disciplines",
                {"measure": "reprimand", "decided_on": "2026-03-01", "decision_no": "3-QĐ/UBKT"},
            )
            for allocated in (21, 19):
                await call(
                    "PUT",
                    f"/v1/payroll/{orgs.ids['NA.HD']}/2022/civil_servant",
                    {"allocated": allocated, "actual": 20},
                    200,
                )
            await call(
                "PUT",
                f"/v1/payroll/{orgs.ids['NA.HD']}/2021/public_employee",
                {"allocated": 5, "actual": 5},
                200,
            )
            async with cadres.app.state.db.session() as session:
                result = await session.execute(select(outbox).order_by(outbox.c.seq))
                rows = [dict(row) for row in result.mappings().all()]

    events = [json.loads(row["payload"]) for row in rows]
    assert Counter(e["type"] for e in events if e["type"] in wanted) == {
        "vn.tochuc.cadres.plan.added.v1": 2,
        "vn.tochuc.cadres.plan.removed.v1": 2,  # by hand, then by the disciplinary measure
        "vn.tochuc.cadres.payroll.set.v1": 3,
    }
    last_sequence: dict[str, int] = {}
    for row, event in zip(rows, events, strict=True):
        if event["type"] not in wanted:
            continue
        message = by_type[event["type"]]
        assert row["subject"] == event["type"].removeprefix("vn.") == message["address"]
        assert event["id"] == row["id"]
        assert errors(message["payload"], event) == [], f"{event['type']} does not match its message: {event}"
        headers = {"Nats-Msg-Id": row["id"], **(row["headers"] or {})}
        assert headers.get("traceparent") == TRACEPARENT and errors(message["headers"], headers) == []
        assert not SENSITIVE_FIELDS & set(keys_anywhere(event)), event
        assert "040180000123" not in row["payload"] and "040180000999" not in row["payload"]
        assert event["sequence"] == last_sequence.get(event["subject"], 0) + 1, event
        last_sequence[event["subject"]] = event["sequence"]


TRAINING_EVENTS = frozenset(
    "vn.tochuc.training." + short
    for short in (
        "course.scheduled.v1",
        "enrollment.created.v1",
        "enrollment.completed.v1",
        "enrollment.failed.v1",
        "enrollment.withdrawn.v1",
        "qualification.attained.v1",
    )
)


async def test_training_events_match_their_messages(run_service: Any) -> None:
    """training's courses (political theory and another kind), enrollments sent, completed, failed and
    withdrawn, and the attained levels they raise (twice for one cadre), against their messages."""
    from services.training.app import create_app as create_training
    from services.training.tests.support import Training

    by_type = messages_by_type()
    async with run_service("training", create_training, run_workers=False) as svc:
        training = Training(svc)
        await training.tree()
        headers = {**training.auth(), "traceparent": TRACEPARENT}
        cadres = [await training.cadre("X", name, level="elementary") for name in ("An", "Bình", "Chi")]
        sent: list[str] = []
        for kind, level in (
            ("political_theory", "intermediate"),
            ("political_theory", "advanced"),
            ("fostering", None),
        ):
            programme = await training.programme(kind, level)
            body = {
                "programme_id": programme,
                "code": f"K-{kind}-{level}",
                "name": "Lớp",
                "provider": "Trường",
                "mode": "in_service",
                "starts_on": "2025-10-01",
                "ends_on": "2026-06-30",
                "capacity": 10,
            }
            course = (await svc.client.post("/v1/courses", json=body, headers=headers)).json()["id"]
            for cadre in cadres:
                body = training.enrollment(course, cadre, "X", acknowledged_findings={"reason": "cử đi"})
                r = await svc.client.post("/v1/enrollments", json=body, headers=headers)
                assert r.status_code == 201, r.text
                sent.append(r.json()["enrollment"]["id"])
        closings = [
            ("completion", {"completed_on": "2026-06-30", "result": "completed", "certificate_no": "1"}),
            ("completion", {"completed_on": "2026-06-30", "result": "failed"}),
            ("withdrawal", {"withdrawn_on": "2025-12-01", "reason": "Chuyển công tác"}),
        ]
        for i, enrollment in enumerate(sent):
            path, body = closings[i % 3]
            r = await svc.client.post(f"/v1/enrollments/{enrollment}/{path}", json=body, headers=headers)
            assert r.status_code == 200, r.text
        async with svc.app.state.db.session() as session:
            result = await session.execute(select(outbox).order_by(outbox.c.seq))
            rows = [dict(row) for row in result.mappings().all()]

    events = [json.loads(row["payload"]) for row in rows]
    assert {e["type"] for e in events} == TRAINING_EVENTS
    # An's intermediate then advanced completions raise An's level twice: sequence 1, then 2.
    attained = [e for e in events if e["type"].endswith("qualification.attained.v1")]
    assert [(e["data"]["theory_level"], e["sequence"]) for e in attained] == [
        ("intermediate", 1),
        ("advanced", 2),
    ]
    last_sequence: dict[str, int] = {}
    for row, event in zip(rows, events, strict=True):
        message = by_type[event["type"]]
        assert row["subject"] == event["type"].removeprefix("vn.") == message["address"]
        assert event["id"] == row["id"] and event["source"] == "/tochuc/training"
        assert errors(message["payload"], event) == [], f"{event['type']} does not match its message: {event}"
        headers = {"Nats-Msg-Id": row["id"], **(row["headers"] or {})}
        assert headers.get("traceparent") == TRACEPARENT and errors(message["headers"], headers) == []
        assert not SENSITIVE_FIELDS & set(keys_anywhere(event)), event
        assert "full_name" not in event["data"], event
        assert event["sequence"] == last_sequence.get(event["subject"], 0) + 1, event
        last_sequence[event["subject"]] = event["sequence"]
