"""Shared fixtures for external processes, each imported from its own module under tests/fixtures/."""

from tests.fixtures.ipfs import *  # noqa: F401,F403
from tests.fixtures.nats import *  # noqa: F401,F403
from tests.fixtures.postgres import *  # noqa: F401,F403
