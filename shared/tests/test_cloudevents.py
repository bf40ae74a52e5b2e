"""The CloudEvents envelope: what is written and what a received body must look like."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime

import pytest

from shared.cloudevents import CloudEvent, dumps, nats_subject, new_event


def test_new_event_has_the_envelope_of_the_spec() -> None:
    org_id = uuid.uuid4()
    event = new_event(
        service="orgs",
        type="orgs.organization.established.v1",
        subject=str(org_id),
        data={"id": org_id, "name": "Đảng bộ xã Tân Phú", "established_on": date(2026, 1, 2)},
        sequence=1,
        request_id="req-1",
    )
    assert event["specversion"] == "1.0"
    assert uuid.UUID(event["id"]).version == 4
    assert event["source"] == "/tochuc/orgs"
    assert event["type"] == "vn.tochuc.orgs.organization.established.v1"
    assert event["subject"] == str(org_id)
    assert event["time"].endswith("Z")
    assert datetime.fromisoformat(event["time"].replace("Z", "+00:00")).utcoffset() is not None
    assert event["datacontenttype"] == "application/json"
    assert (event["sequence"], event["requestid"]) == (1, "req-1")

    text = dumps(event)
    assert "Đảng bộ xã Tân Phú" in text  # not \u-escaped
    body = json.loads(text)
    assert body["data"] == {"id": str(org_id), "name": "Đảng bộ xã Tân Phú", "established_on": "2026-01-02"}


def test_nats_subject_is_the_type_without_vn() -> None:
    assert (
        nats_subject("vn.tochuc.orgs.organization.established.v1")
        == "tochuc.orgs.organization.established.v1"
    )
    assert nats_subject("orgs.member.admitted.v1") == "tochuc.orgs.member.admitted.v1"


def test_parse_round_trips() -> None:
    body = new_event(
        service="cadres",
        type="cadres.cadre.updated.v1",
        subject="c1",
        data={"x": 1},
        sequence=3,
        request_id=None,
    )
    body["traceinfo"] = "kept"
    event = CloudEvent.parse(dumps(body).encode())
    assert event.id == body["id"]
    assert event.short_type == "cadres.cadre.updated.v1"
    assert event.nats_subject == "tochuc.cadres.cadre.updated.v1"
    assert (event.subject, event.sequence, event.requestid, event.data) == ("c1", 3, None, {"x": 1})
    assert event.extensions == {"traceinfo": "kept"}
    assert json.loads(event.to_bytes()) == body


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"specversion": "1.0", "source": "/x", "type": "t"}', "id"),
        (b'{"specversion": "1.0", "id": "", "source": "/x", "type": "t"}', "id"),
        (b'{"specversion": "0.3", "id": "1", "source": "/x", "type": "t"}', "specversion"),
        (b'{"specversion": "1.0", "id": "1", "source": "/x", "type": "t", "sequence": "7"}', "sequence"),
        (b'{"specversion": "1.0", "id": "1", "source": "/x", "type": "t", "data": [1]}', "data"),
    ],
)
def test_parse_rejects_a_malformed_body_clearly(raw: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match="malformed CloudEvent") as info:
        CloudEvent.parse(raw)
    assert reason in str(info.value)
