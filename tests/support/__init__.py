"""Helpers the tests share: servers they start, clients, file fixtures, and the services rule."""
import os
import time
from contextlib import contextmanager

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken


def require_services() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def need(reachable: bool, what: str):
    """Skip locally, fail in CI (REQUIRE_SERVICES=1), when a server is not there."""
    if reachable:
        return
    if require_services():
        pytest.fail(f"{what} is required (REQUIRE_SERVICES=1) but not reachable")
    pytest.skip(f"{what} not reachable")


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


# Timed assertions bound a promised duration from above and add this much: the suite runs on
# loaded 2-core machines, and a bound any tighter measures the machine, not the code.
HEADROOM_SECONDS = 2


class Stopwatch:
    elapsed: float = 0.0


@contextmanager
def finishes_within(promised: float):
    """Fail when the block takes longer than ``promised`` seconds plus HEADROOM_SECONDS."""
    clock, started = Stopwatch(), time.monotonic()
    yield clock
    clock.elapsed = time.monotonic() - started
    assert clock.elapsed < promised + HEADROOM_SECONDS, (
        f"took {clock.elapsed:.1f} s; promised {promised} s (+{HEADROOM_SECONDS} s headroom)")
