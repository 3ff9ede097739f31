"""The health history and schema change panels on a source's change page."""
from datetime import timedelta

import pytest
from django.utils import timezone

from datasources.models import Discovery, HealthCheck, SchemaChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(alice):
    alice.is_staff = True
    alice.save()
    return alice


def change_page(client, source, **params):
    return client.get(f"/admin/datasources/datasource/{source.pk}/change/", params)


def test_health_panel_shows_uptime_and_the_last_checks(client, staff, source):
    now = timezone.now()
    for minutes, status, code in ((30, "succeeded", None), (20, "failed", "AUTH_FAILED"), (10, "succeeded", None)):
        HealthCheck.objects.create(data_source=source, checked_at=now - timedelta(minutes=minutes), status=status,
                                   error_code=code, message="refused" if code else "", latency_ms=40, trigger="manual")
    HealthCheck.objects.create(data_source=source, checked_at=now - timedelta(days=3), status="failed",
                               error_code="TIMEOUT", message="", latency_ms=2000, trigger="scheduled")
    client.force_login(staff)

    day = change_page(client, source).content.decode()
    week = change_page(client, source, health_window="7d").content.decode()

    assert 'id="panel-health-history"' in day
    assert "66.67 % of 3 check(s), 1 failed" in day
    assert "AUTH_FAILED: refused" in day
    assert "50.0 % of 4 check(s), 2 failed" in week


def test_schema_changes_panel_lists_recent_changes_and_marks_breaking_ones(client, staff, source):
    discovery = Discovery.objects.create(data_source=source, status="succeeded")
    now = timezone.now()
    SchemaChange.objects.create(data_source=source, discovery=discovery, change_type="column_removed",
                                schema_name="public", table_name="orders", column_name="legacy", before="text",
                                after=None, breaking=True, detected_at=now)
    SchemaChange.objects.create(data_source=source, discovery=discovery, change_type="table_added",
                                schema_name="public", table_name="added", before=None, after="table",
                                breaking=False, detected_at=now)
    client.force_login(staff)

    page = change_page(client, source).content.decode()

    assert 'id="panel-schema-changes"' in page
    assert "public.orders.legacy" in page and "public.added" in page
    assert page.count('class="rg-breaking"') == 1


def test_a_source_without_history_says_so(client, staff, source):
    client.force_login(staff)

    page = change_page(client, source).content.decode()

    assert "No connection check in the last 24h." in page
    assert "No schema change recorded." in page
