"""Health history: every test recorded, the summary endpoint, the paginated checks, retention."""
from datetime import timedelta

import pytest
from django.utils import timezone

from datasources.models import DataSource, HealthCheck
from datasources.selectors.health import health_summary
from datasources.services.health_checks import health_checks_prune
from tests.conftest import client_for, source_url
from tests.support import post_test
from tests.support.connections import postgres_body

pytestmark = pytest.mark.django_db


def create(client, body) -> dict:
    response = client.post("/api/v1/data-sources", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def failing_body(workspace, **overrides):
    """A source of type "other": it has no connector, so every test fails UNSUPPORTED at once."""
    return {"workspace_id": workspace.pk, "name": "Legacy thing", "type": "other", "schema_auto_refresh": False,
            "connection_timeout": 2, "credentials": {}, **overrides}


def add_check(source_id, status, minutes_ago, latency=10, now=None):
    now = now or timezone.now()
    return HealthCheck.objects.create(
        data_source_id=source_id, checked_at=now - timedelta(minutes=minutes_ago), status=status,
        error_code=None if status == "succeeded" else "TIMEOUT", latency_ms=latency, trigger="scheduled",
    )


def test_manual_test_is_recorded_and_health_fields_follow(api, workspace):
    source = create(api, failing_body(workspace))
    response = post_test(api, source["id"])
    assert response.json()["data"]["status"] == "failed"
    check = HealthCheck.objects.get(data_source_id=source["id"])
    assert (check.status, check.error_code, check.trigger) == ("failed", "UNSUPPORTED", "manual")
    stored = DataSource.objects.get(pk=source["id"])
    assert stored.status == "error" and stored.last_failed_connection_at == check.checked_at
    assert stored.failure_count == 1


@pytest.mark.services
def test_successful_test_against_real_postgres_is_recorded(api, workspace, postgres):
    source = create(api, postgres_body(workspace))
    post_test(api, source["id"])
    data = api.get(f"{source_url(source['id'])}/health").json()["data"]
    assert data["status"] == "active" and data["checks"] == 1 and data["failures"] == 0
    assert data["uptime_percent"] == 100.0
    assert data["latency_ms"]["p50"] == data["last_checks"][0]["latency_ms"]
    assert data["status_since"] == data["last_checks"][0]["checked_at"]


def test_summary_counts_the_window_and_percentiles_of_successes_only(api, workspace):
    source_id = create(api, failing_body(workspace))["id"]
    now = timezone.now()
    for minutes, latency in ((50, 10), (40, 20), (30, 30), (20, 40)):
        add_check(source_id, "succeeded", minutes, latency, now)
    add_check(source_id, "failed", 10, 5000, now)
    add_check(source_id, "failed", 60 * 30, 5000, now)  # outside 24h, inside 7d
    DataSource.objects.filter(pk=source_id).update(status="error")
    summary = health_summary(source=DataSource.objects.get(pk=source_id), now=now)
    assert (summary["checks"], summary["failures"], summary["uptime_percent"]) == (5, 1, 80.0)
    assert summary["latency_ms"] == {"p50": 20, "p95": 40}
    assert summary["status_since"] == now - timedelta(minutes=10)
    week = api.get(f"{source_url(source_id)}/health?window=7d").json()["data"]
    assert (week["window"], week["checks"], week["failures"]) == ("7d", 6, 2)
    assert len(week["last_checks"]) == 6 and week["last_checks"][0]["status"] == "failed"


def test_last_checks_are_the_newest_twenty(api, workspace):
    source_id = create(api, failing_body(workspace))["id"]
    for minutes in range(25):
        add_check(source_id, "succeeded", minutes)
    data = api.get(f"{source_url(source_id)}/health").json()["data"]
    assert len(data["last_checks"]) == 20 and data["checks"] == 25


def test_unknown_window_is_400(api, workspace):
    source_id = create(api, failing_body(workspace))["id"]
    response = api.get(f"{source_url(source_id)}/health?window=1y")
    assert response.status_code == 400 and "window" in response.json()["error"]["details"]


def test_a_source_never_tested_has_an_empty_summary(api, workspace):
    source_id = create(api, failing_body(workspace))["id"]
    data = api.get(f"{source_url(source_id)}/health").json()["data"]
    assert data["checks"] == 0 and data["uptime_percent"] is None and data["status_since"] is None
    assert data["latency_ms"] == {"p50": None, "p95": None} and data["last_checks"] == []


def test_checks_are_paginated_like_the_list(api, workspace):
    source_id = create(api, failing_body(workspace))["id"]
    for minutes in range(7):
        add_check(source_id, "succeeded", minutes)
    body = api.get(f"{source_url(source_id)}/health/checks?page=2&page_size=5").json()
    assert body["pagination"] == {"page": 2, "page_size": 5, "total": 7, "total_pages": 2}
    assert len(body["data"]) == 2
    assert set(body["data"][0]) == {"id", "checked_at", "status", "error_code", "message", "latency_ms", "trigger",
                                    "certificate_not_after"}
    assert api.get(f"{source_url(source_id)}/health/checks?page=0").status_code == 400


def test_viewers_read_health_and_outsiders_get_404(api, workspace, charlie, oscar):
    source_id = create(api, failing_body(workspace))["id"]
    viewer = client_for(charlie)
    assert viewer.get(f"{source_url(source_id)}/health").status_code == 200
    assert viewer.get(f"{source_url(source_id)}/health/checks").status_code == 200
    outsider = client_for(oscar)
    assert outsider.get(f"{source_url(source_id)}/health").status_code == 404
    assert outsider.get(f"{source_url(source_id)}/health/checks").status_code == 404


def test_prune_deletes_only_checks_older_than_the_retention(api, workspace, settings):
    settings.HEALTH_CHECK_RETENTION_DAYS = 30
    source_id = create(api, failing_body(workspace))["id"]
    for days in (31, 40, 45):
        add_check(source_id, "failed", days * 24 * 60)
    kept = add_check(source_id, "succeeded", 29 * 24 * 60)
    assert health_checks_prune(batch_size=2) == 3
    assert list(HealthCheck.objects.values_list("pk", flat=True)) == [kept.pk]


def test_deleting_a_source_deletes_its_history(api, workspace):
    source_id = create(api, failing_body(workspace))["id"]
    add_check(source_id, "succeeded", 1)
    api.delete(source_url(source_id))
    assert not HealthCheck.objects.exists()
