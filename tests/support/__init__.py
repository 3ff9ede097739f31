"""Helpers the tests share: servers they start, clients, file fixtures, and the services rule."""
import os
import time
from contextlib import contextmanager

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken


def require_services() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


# Fixtures that start or need a real server; a test using one must carry the services marker
# (tests/conftest.py refuses to run the suite otherwise).
SERVICE_FIXTURES = frozenset({
    "postgres", "mariadb", "redis_server", "sshd", "password_postgres", "hidden_redis", "pg_scratch_schema",
})
# Whether the test being set up or run carries the services marker (set by tests/conftest.py).
current_test = {"services": True}


def need(reachable: bool, what: str):
    """Skip locally, fail in CI (REQUIRE_SERVICES=1), when a server is not there.

    Every use of a real server goes through here, so a test without the services marker
    that reaches one fails whether or not the server is up."""
    if not current_test["services"]:
        pytest.fail(f"this test needs {what} but is not marked @pytest.mark.services")
    if reachable:
        return
    if require_services():
        pytest.fail(f"{what} is required (REQUIRE_SERVICES=1) but not reachable")
    pytest.skip(f"{what} not reachable")


SOURCES_URL = "/api/v1/data-sources"


def api_create(client, body) -> dict:
    """POST a create body; the created source's data (fails the test unless 201)."""
    response = client.post(SOURCES_URL, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["data"]


def created_source(client, body):
    """api_create, returning the saved DataSource row."""
    from datasources.models import DataSource

    return DataSource.objects.get(pk=api_create(client, body)["id"])


def post_test(client, source_id):
    """POST /data-sources/{id}/test-connection; the response."""
    return client.post(f"{SOURCES_URL}/{source_id}/test-connection", format="json")


# Each test file that writes to the machine's Redis has a database of its own (and flushes
# only that one): two files sharing one would wipe each other's keys when run in parallel.
REDIS_DATABASES = {
    "tests/connectors/test_nosql.py": 11,
    "tests/api/test_live.py": 12,
    "tests/services/test_tasks.py": 13,
    "tests/production/test_cluster.py": 10,
    # The broker of the production stacks that tests/production starts (queues only, never flushed).
    "tests/production/stack.py": 14,
    "tests/security/test_rebinding.py": 15,
}
assert len(set(REDIS_DATABASES.values())) == len(REDIS_DATABASES)


def redis_db(test_file: str) -> int:
    """The Redis database number of the test file ``test_file`` (its ``__file__``)."""
    path = os.path.relpath(os.path.abspath(test_file), os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    return REDIS_DATABASES[path.replace(os.sep, "/")]


# Fixtures that start a server of their own on loopback (or hand a loopback port): a test using one
# runs under network policy "open" and must say so with the loopback (or services) marker.
LOOPBACK_FIXTURES = frozenset({"silent", "http_server", "silent_listener", "receiver"})


# What a fixture calls when it reaches a server: need(), the gate every use of one goes through, or
# the helpers that go through it themselves.
SERVER_GATES = frozenset({"need", "ThrowawayPostgres", "Cluster"})


def server_fixtures_of(item) -> set[str]:
    """The fixtures ``item`` uses that reach a real server: those listed in SERVICE_FIXTURES, and any
    other (a file's own) whose function calls one of SERVER_GATES."""
    names = set(SERVICE_FIXTURES & set(getattr(item, "fixturenames", ())))
    info = getattr(item, "_fixtureinfo", None)
    for name, definitions in (info.name2fixturedefs.items() if info else ()):
        code = [getattr(getattr(d, "func", None), "__code__", None) for d in definitions]
        if any(c is not None and SERVER_GATES & set(c.co_names) for c in code):
            names.add(name)
    return names


def unmarked_service_users(items) -> list[str]:
    """Node ids of collected tests that use a server fixture without the services marker, and of
    tests that use a loopback server fixture with neither the loopback nor the services marker."""
    unmarked = []
    for item in items:
        if item.get_closest_marker("services") is not None:
            continue
        if server_fixtures_of(item) or (LOOPBACK_FIXTURES & set(getattr(item, "fixturenames", ()))
                                        and item.get_closest_marker("loopback") is None):
            unmarked.append(item.nodeid)
    return unmarked


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


def settled_within(promised: float, probe):
    """``probe()`` once it returns something falsy (nothing left), or its last value once
    ``promised`` seconds plus HEADROOM_SECONDS (finishes_within's bound) have passed."""
    end = time.monotonic() + promised + HEADROOM_SECONDS
    while True:
        left = probe()
        if not left or time.monotonic() >= end:
            return left
        time.sleep(0.1)
