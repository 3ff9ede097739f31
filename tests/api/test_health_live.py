"""A real PostgreSQL goes active -> error -> active: history, uptime and one signed webhook per change.

The server is a throwaway cluster this test starts, stops and starts again (the machine's own
PostgreSQL must stay up for everything else).
"""
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from datasources.models import DataSource, HealthCheck
from datasources.services.health_checks import health_round_run
from tests.conftest import source_url
from tests.support import post_test
from tests.support.clusters import ThrowawayPostgres
from tests.support.receiver import verify

pytestmark = [pytest.mark.django_db, pytest.mark.services]


@pytest.fixture
def cluster():
    server = ThrowawayPostgres(prefix="rg-health-pg-")
    try:
        yield server
    finally:
        server.remove()


def test_postgres_down_and_up_again(api, workspace, cluster, receiver, django_capture_on_commit_callbacks):
    hook = api.post("/api/v1/webhooks", {"url": receiver.url, "events": ["data_source.health_changed"]},
                    format="json").json()["data"]
    body = {"workspace_id": workspace.pk, "name": "Throwaway PG", "type": "postgresql", "host": "127.0.0.1",
            "port": cluster.port, "database_name": "postgres", "connection_timeout": 3,
            "schema_auto_refresh": False, "credentials": {"username": "postgres", "password": "trusted"}}
    source_id = api.post("/api/v1/data-sources", body, format="json").json()["data"]["id"]

    def test_now():
        with django_capture_on_commit_callbacks(execute=True):
            return post_test(api, source_id).json()["data"]["status"]

    assert test_now() == "succeeded"  # inactive -> active: a new source working, no event
    cluster.stop()
    assert test_now() == "failed"  # active -> error
    DataSource.objects.filter(pk=source_id).update(health_next_check_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert health_round_run(concurrency=2).checked == 1  # a scheduled check, still down: no event
    cluster.start()
    assert test_now() == "succeeded"  # error -> active

    checks = list(HealthCheck.objects.filter(data_source_id=source_id).order_by("checked_at"))
    assert [(c.status, c.trigger) for c in checks] == [
        ("succeeded", "manual"), ("failed", "manual"), ("failed", "scheduled"), ("succeeded", "manual")]
    assert checks[1].error_code in ("HOST_UNREACHABLE", "CONNECTION_FAILED")
    health = api.get(f"{source_url(source_id)}/health").json()["data"]
    assert (health["status"], health["checks"], health["failures"], health["uptime_percent"]) == ("active", 4, 2, 50.0)
    assert health["status_since"] == health["last_checks"][0]["checked_at"]

    assert len(receiver.requests) == 2  # one per transition
    events = []
    for request in receiver.requests:
        assert verify(hook["secret"], request.headers, request.body)
        assert request.headers["x-rivergen-event"] == "data_source.health_changed"
        events.append(json.loads(request.body)["data"])
    assert [(e["from"], e["to"]) for e in events] == [("active", "error"), ("error", "active")]
    assert events[0]["error_code"] == checks[1].error_code and events[1]["error_code"] is None
    assert {e["data_source_id"] for e in events} == {source_id}
    assert "trusted" not in json.dumps(events)
