"""Test helpers of the shared kit: a real nats-server, database and NATS fixtures."""

from shared.testing.nats import NatsServer, find_nats_server

__all__ = ["NatsServer", "find_nats_server"]
