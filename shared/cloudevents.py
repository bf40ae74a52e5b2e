"""CloudEvents 1.0 envelope in structured mode (``application/cloudevents+json``).

Every event the system publishes is one JSON object: the CloudEvents attributes, two extensions
(``sequence``: the aggregate's version after the change; ``requestid``: the X-Request-ID that caused it) and
``data``. The NATS subject is the ``type`` without its ``vn.`` prefix.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

SPEC_VERSION = "1.0"
TYPE_PREFIX = "vn.tochuc."
SOURCE_PREFIX = "/tochuc/"
CONTENT_TYPE = "application/cloudevents+json"
DATA_CONTENT_TYPE = "application/json"

_REQUIRED = ("specversion", "id", "source", "type")
_KNOWN = frozenset(
    {*_REQUIRED, "subject", "time", "datacontenttype", "sequence", "requestid", "data", "dataschema"}
)


def _default(value: Any) -> Any:
    """JSON encoder for the values a domain puts in ``data``: dates as ISO strings, ids as strings."""
    if isinstance(value, datetime):
        return rfc3339(value) if value.tzinfo is not None else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable in an event")


def dumps(value: Any) -> str:
    """The project's JSON for events: UTF-8 text as is (Vietnamese stays readable), compact."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_default)


def rfc3339(moment: datetime) -> str:
    """An aware datetime as RFC 3339 in UTC with a ``Z`` (milliseconds)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def full_type(type: str) -> str:
    """``orgs.organization.established.v1`` -> ``vn.tochuc.orgs.organization.established.v1``."""
    return type if type.startswith(TYPE_PREFIX) else TYPE_PREFIX + type


def nats_subject(ce_type: str) -> str:
    """The NATS subject of an event type: the type without ``vn.`` (a short type gets the full prefix)."""
    return full_type(ce_type).removeprefix("vn.")


def new_event(
    *,
    service: str,
    type: str,
    subject: str,
    data: dict[str, Any],
    sequence: int | None,
    request_id: str | None,
) -> dict[str, Any]:
    """A new envelope (a plain dict, ready for :func:`dumps`). ``type`` is given without ``vn.tochuc.``."""
    return {
        "specversion": SPEC_VERSION,
        "id": str(uuid.uuid4()),
        "source": SOURCE_PREFIX + service,
        "type": full_type(type),
        "subject": str(subject),
        "time": rfc3339(datetime.now(UTC)),
        "datacontenttype": DATA_CONTENT_TYPE,
        "sequence": sequence,
        "requestid": request_id,
        "data": data,
    }


@dataclass(frozen=True, slots=True)
class CloudEvent:
    """A received event. ``data`` is the decoded payload; unknown extension attributes are kept."""

    id: str
    source: str
    type: str
    specversion: str = SPEC_VERSION
    subject: str | None = None
    time: str | None = None
    datacontenttype: str | None = DATA_CONTENT_TYPE
    sequence: int | None = None
    requestid: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def short_type(self) -> str:
        """The type without ``vn.tochuc.`` (e.g. ``orgs.organization.established.v1``)."""
        return self.type.removeprefix(TYPE_PREFIX)

    @property
    def nats_subject(self) -> str:
        return nats_subject(self.type)

    @classmethod
    def from_dict(cls, body: Any) -> CloudEvent:
        if not isinstance(body, dict):
            raise ValueError("malformed CloudEvent: the body is not a JSON object")
        missing = [name for name in _REQUIRED if not isinstance(body.get(name), str) or not body[name]]
        if missing:
            raise ValueError(f"malformed CloudEvent: missing or empty attribute(s) {', '.join(missing)}")
        if body["specversion"] != SPEC_VERSION:
            raise ValueError(f"malformed CloudEvent: unsupported specversion {body['specversion']!r}")
        sequence = body.get("sequence")
        if sequence is not None and (isinstance(sequence, bool) or not isinstance(sequence, int)):
            raise ValueError("malformed CloudEvent: sequence must be an integer")
        data = body.get("data", {})
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ValueError("malformed CloudEvent: data must be a JSON object")
        for name in ("subject", "time", "datacontenttype", "requestid"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise ValueError(f"malformed CloudEvent: {name} must be a string")
        return cls(
            id=body["id"],
            source=body["source"],
            type=body["type"],
            specversion=body["specversion"],
            subject=body.get("subject"),
            time=body.get("time"),
            datacontenttype=body.get("datacontenttype"),
            sequence=sequence,
            requestid=body.get("requestid"),
            data=data,
            extensions={k: v for k, v in body.items() if k not in _KNOWN},
        )

    @classmethod
    def parse(cls, raw: bytes | str) -> CloudEvent:
        """Decode and validate a structured-mode body; a malformed one raises :class:`ValueError`."""
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"malformed CloudEvent: not JSON ({exc})") from exc
        return cls.from_dict(body)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "subject": self.subject,
            "time": self.time,
            "datacontenttype": self.datacontenttype,
            "sequence": self.sequence,
            "requestid": self.requestid,
            "data": self.data,
        }
        body.update(self.extensions)
        return body

    def to_bytes(self) -> bytes:
        return dumps(self.to_dict()).encode()
