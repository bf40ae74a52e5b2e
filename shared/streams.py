"""The JetStream streams of the system and the durable consumers on them, created idempotently.

Consumers are created (or updated) explicitly and then bound with ``pull_subscribe_bind``:
``pull_subscribe(durable=...)`` silently keeps an existing consumer's old configuration.
"""

from __future__ import annotations

from collections.abc import Sequence

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    ConsumerInfo,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamInfo,
)
from nats.js.errors import NotFoundError

# owner service -> (stream name, subjects)
STREAMS: dict[str, tuple[str, list[str]]] = {
    "orgs": ("TOCHUC_ORGS", ["tochuc.orgs.>"]),
    "cadres": ("TOCHUC_CADRES", ["tochuc.cadres.>"]),
    "training": ("TOCHUC_TRAINING", ["tochuc.training.>"]),
}

DUPLICATE_WINDOW = 120.0  # seconds: Nats-Msg-Id de-duplication of a relay's re-publish


def stream_name(owner: str) -> str:
    try:
        return STREAMS[owner][0]
    except KeyError:
        raise ValueError(f"no stream is owned by {owner!r}; known owners: {', '.join(STREAMS)}") from None


def durable_name(consumer: str, owner: str) -> str:
    """``cadres`` reading ``orgs`` -> ``cadres__orgs``."""
    return f"{consumer}__{owner}"


def stream_config(owner: str, *, replicas: int = 1) -> StreamConfig:
    name, subjects = STREAMS[owner] if owner in STREAMS else (stream_name(owner), [])
    return StreamConfig(
        name=name,
        subjects=list(subjects),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=0,  # kept for replay: no age limit
        max_msgs=-1,
        max_bytes=-1,
        duplicate_window=DUPLICATE_WINDOW,
        num_replicas=replicas,
    )


async def ensure_stream(js: JetStreamContext, owner: str, *, replicas: int = 1) -> StreamInfo:
    """Create the owner's stream, or bring an existing one to the configuration above."""
    config = stream_config(owner, replicas=replicas)
    try:
        await js.stream_info(config.name or "")
    except NotFoundError:
        return await js.add_stream(config)
    return await js.update_stream(config)


async def ensure_consumer(
    js: JetStreamContext,
    *,
    consumer: str,
    owner: str,
    filter_subjects: Sequence[str] | None,
    max_deliver: int,
    backoff: Sequence[float] | None,
    ack_wait: float,
    replicas: int | None = None,
) -> ConsumerInfo:
    """Create or update the durable pull consumer ``<consumer>__<owner>`` (explicit ack).

    ``backoff`` here is the server's redelivery schedule when a message is *not acked at all* (its first
    value replaces ``ack_wait``); a consumer that naks with a delay does not need it. ``replicas`` None
    follows the stream's replica count.
    """
    stream = stream_name(owner)
    durable = durable_name(consumer, owner)
    subjects = list(filter_subjects or [])
    config = ConsumerConfig(
        name=durable,
        durable_name=durable,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ack_wait,
        max_deliver=max_deliver,
        backoff=list(backoff) if backoff else None,
        filter_subject=subjects[0] if len(subjects) == 1 else None,
        filter_subjects=subjects if len(subjects) > 1 else None,
        max_ack_pending=1000,
        num_replicas=replicas,
    )
    # CONSUMER.CREATE without an action creates the consumer or updates an existing one's settings.
    return await js.add_consumer(stream, config)


async def pull_subscription(
    js: JetStreamContext, *, consumer: str, owner: str
) -> JetStreamContext.PullSubscription:
    """Bind to a consumer created by :func:`ensure_consumer`."""
    return await js.pull_subscribe_bind(durable=durable_name(consumer, owner), stream=stream_name(owner))
