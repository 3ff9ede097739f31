"""Server certificates watched: kept from the last successful test, shown on read and health,
announced once per certificate per source when within TLS_CERTIFICATE_WARNING_DAYS."""
from datetime import timedelta

import pytest
from django.utils import timezone

from datasources.models import DataSource, HealthCheck, Webhook, WebhookDelivery
from tests.conftest import source_url as url
from tests.support.certificates import shared_authority

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
EXPIRING = "data_source.certificate_expiring"


def create_watched(api, workspace, port, name="watched"):
    created = api.post("/api/v1/data-sources", {
        "workspace_id": workspace.pk, "name": name, "type": "postgresql", "host": "localhost",
        "port": port, "database_name": "postgres", "schema_auto_refresh": False, "health_check_interval": 300,
        "credentials": {"username": "postgres"},
        "tls": {"mode": "verify-full", "ca_certificate": shared_authority().pem},
    }, format="json")
    assert created.status_code == 201, created.json()
    return created.json()["data"]["id"]


@pytest.fixture
def watched(api, workspace, org, tls_postgres):
    Webhook.objects.create(organization=org, url="https://hooks.example.com/rg", events=[EXPIRING], secret="s" * 32)
    return create_watched(api, workspace, tls_postgres.port)


def checked(api, source_id):
    result = api.post(f"{url(source_id)}/test-connection").json()["data"]
    assert result["status"] == "succeeded", result
    return result


def announcements():
    return list(WebhookDelivery.objects.filter(event_type=EXPIRING).values_list("payload", flat=True))


def test_a_far_expiry_is_kept_and_shown_but_not_announced(api, watched, tls_postgres):
    result = checked(api, watched)
    read = api.get(url(watched)).json()["data"]["server_certificate"]
    assert read["sha256"] == result["tls"]["server_certificate"]["sha256"] and read["expiring"] is False
    health = api.get(f"{url(watched)}/health").json()["data"]
    assert health["server_certificate"]["expiring"] is False
    assert HealthCheck.objects.filter(data_source_id=watched).latest("id").certificate_not_after is not None
    assert announcements() == []


def test_an_expiring_certificate_is_announced_once_per_certificate(api, watched, tls_postgres, settings):
    settings.TLS_CERTIFICATE_WARNING_DAYS = 21
    soon = shared_authority().issue("localhost", days=10)
    tls_postgres.serve(soon)
    try:
        checked(api, watched)
        checked(api, watched)
        sent = announcements()
        assert len(sent) == 1 and sent[0]["data"]["data_source_id"] == watched
        assert sent[0]["data"]["days_left"] in (9, 10)
        health = api.get(f"{url(watched)}/health").json()["data"]
        assert health["server_certificate"]["expiring"] is True
        tls_postgres.serve(shared_authority().issue("localhost", days=12))  # renewed, but still soon
        checked(api, watched)
        assert len(announcements()) == 2
    finally:
        tls_postgres.serve(tls_postgres.server)


def scheduled_round(*source_ids):
    """Make the sources due and run one health round, as celery beat would."""
    from datasources.services.health_checks import health_round_run

    DataSource.objects.filter(pk__in=source_ids).update(health_next_check_at=timezone.now() - timedelta(seconds=1))
    report = health_round_run()
    assert (report.checked, report.failed) == (len(source_ids), 0)


def test_every_scheduled_check_records_the_expiry_and_the_warning_is_sent_once_per_source(
        api, watched, workspace, tls_postgres, settings):
    """Manual tests and scheduled rounds share one record of what was announced."""
    from cryptography import x509

    settings.TLS_CERTIFICATE_WARNING_DAYS = 21
    soon = shared_authority().issue("localhost", days=10)
    not_after = x509.load_pem_x509_certificate(soon.cert_pem.encode()).not_valid_after_utc
    tls_postgres.serve(soon)
    try:
        checked(api, watched)
        scheduled_round(watched)
        scheduled_round(watched)
        rounds = HealthCheck.objects.filter(data_source_id=watched, trigger=HealthCheck.Trigger.SCHEDULED)
        assert [check.certificate_not_after for check in rounds] == [not_after, not_after]
        assert [p["data"]["data_source_id"] for p in announcements()] == [watched]
        other = create_watched(api, workspace, tls_postgres.port, name="same server")
        scheduled_round(watched, other)
        assert sorted(p["data"]["data_source_id"] for p in announcements()) == sorted([watched, other])
        assert api.get(f"{url(other)}/health").json()["data"]["server_certificate"]["expiring"] is True
    finally:
        tls_postgres.serve(tls_postgres.server)
