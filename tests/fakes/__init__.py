"""Local fakes of the external APIs, speaking their wire formats on loopback."""

from tests.fakes.server import FakeServer, Reply, Request

__all__ = ["FakeServer", "Reply", "Request"]
