"""Local fakes of the external APIs, speaking their wire formats on loopback."""

from tests.fakes.server import FakeServer, Received, Reply

__all__ = ["FakeServer", "Received", "Reply"]
