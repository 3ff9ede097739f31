"""The production command's server (gunicorn + the pooled PostgreSQL settings), against a real cluster.

One throwaway cluster with max_connections=20: two gunicorn workers with 16 threads each could
open 32 connections without the pool; with DATABASE_POOL_MAX=6 they hold at most 12.
"""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.production.stack import (
    PASSWORD,
    Cluster,
    Gunicorn,
    prepare,
    production_env,
    request,
    token_for,
)
from tests.support import settled_within

pytestmark = pytest.mark.services


@pytest.fixture(scope="module")
def stack():
    cluster = Cluster(max_connections=20)
    try:
        env = production_env(cluster.url, DATABASE_POOL_MAX="6", DATABASE_POOL_MIN="1",
                             DATABASE_POOL_TIMEOUT="10", DATABASE_CONNECT_TIMEOUT="2",
                             SERVICE_UNAVAILABLE_RETRY_AFTER="7")
        org = prepare(env)
        server = Gunicorn(env, workers=2, threads=16)
        try:
            yield cluster, server, org["workspaces"][0]["id"]
        finally:
            server.close()
    finally:
        cluster.remove()


def body(name, workspace_id):
    return {
        "name": name, "type": "postgresql", "host": "db.example.com", "port": 5432,
        "database_name": "production", "workspace_id": workspace_id,
        "credentials": {"username": "dbuser", "password": "securepassword"},
    }


def test_healthz_and_readyz_answer_200_when_all_is_up(stack):
    _, server, _ = stack
    assert request(server.url("/healthz"))[:3:2] == (200, {"status": "ok"})
    status, _, answer = request(server.url("/readyz"))
    assert (status, answer["checks"]) == (200, {"database": "ok", "broker": "ok"})


def test_static_files_are_served_by_whitenoise(stack):
    _, server, _ = stack
    status, headers, _ = request(server.url("/static/admin/css/base.css"))
    assert status == 200 and headers["Content-Type"].startswith("text/css")


def test_200_concurrent_creates_through_gunicorn_are_all_201(stack):
    _, server, workspace_id = stack
    token = token_for(server)
    start = threading.Barrier(200)

    def create(i):
        start.wait()
        return request(server.url("/api/v1/data-sources"), body(f"race {i}", workspace_id), token, timeout=120)

    with ThreadPoolExecutor(200) as pool:
        answers = list(pool.map(create, range(200)))
    statuses = [status for status, _, _ in answers]
    assert 500 not in statuses, server.output()[-2000:]
    # Past DATABASE_POOL_TIMEOUT a create may be 503 with Retry-After (documented); nothing else.
    assert set(statuses) <= {201, 503}, sorted(set(statuses))
    assert all(headers.get("Retry-After") for status, headers, _ in answers if status == 503)
    print(f"200 concurrent creates: {statuses.count(201)} x 201, {statuses.count(503)} x 503")
    status, _, listed = request(server.url("/api/v1/data-sources?page_size=1"), token=token)
    # Every 201 is a stored source (a 503 stored nothing; earlier tests of the stack may add more).
    assert listed["pagination"]["total"] >= statuses.count(201) > 0


def test_database_outage_is_503_with_retry_after_and_the_service_recovers(stack):
    cluster, server, workspace_id = stack
    token = token_for(server)
    cluster.stop()
    try:
        calls = [
            ("/api/v1/auth/token", {"username": "dana", "password": "whatever-it-is"}, None),
            ("/api/v1/data-sources", None, token),
            ("/api/v1/data-sources", body("during the outage", workspace_id), token),
            ("/api/v1/data-sources/1", None, token),
        ]
        for path, payload, bearer in calls:
            started = time.monotonic()
            status, headers, answer = request(server.url(path), payload, bearer)
            print(f"{path} while down: {status} in {time.monotonic() - started:.2f} s")
            assert status == 503, (path, status, answer)
            assert headers.get("Retry-After") == "7"
            assert answer["success"] is False and answer["error"]["code"] == "SERVICE_UNAVAILABLE"
        status, headers, answer = request(server.url("/readyz"))
        assert (status, answer["failed"], headers.get("Retry-After")) == (503, ["database"], "7")
        assert request(server.url("/healthz"))[0] == 200  # alive, only not ready
    finally:
        cluster.start()
    # Every worker's pool reconnects by itself, no restart: a run of successes through both.
    successes = []

    def not_yet_recovered() -> bool:
        status = request(server.url("/api/v1/auth/token"), {"username": "dana", "password": PASSWORD})[0]
        assert status in (200, 503), status
        successes.append(status == 200)
        return successes[-10:] != [True] * 10

    assert not settled_within(118, not_yet_recovered), "the pools did not reconnect"
    assert request(server.url("/readyz"))[0] == 200
    token = token_for(server)
    assert request(server.url("/api/v1/data-sources"), body("after the outage", workspace_id), token)[0] == 201
