"""Server certificates watched: kept from the last successful test, shown on read and health,
announced once per certificate per source when within TLS_CERTIFICATE_WARNING_DAYS."""
import pytest

from datasources.models import HealthCheck, Webhook, WebhookDelivery
from tests.conftest import source_url as url
from tests.support.certificates import shared_authority

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
EXPIRING = "data_source.certificate_expiring"


@pytest.fixture
def watched(api, workspace, org, tls_postgres):
    Webhook.objects.create(organization=org, url="https://hooks.example.com/rg", events=[EXPIRING], secret="s" * 32)
    created = api.post("/api/v1/data-sources", {
        "workspace_id": workspace.pk, "name": "watched", "type": "postgresql", "host": "localhost",
        "port": tls_postgres.port, "database_name": "postgres", "schema_auto_refresh": False,
        "credentials": {"username": "postgres"},
        "tls": {"mode": "verify-full", "ca_certificate": shared_authority().pem},
    }, format="json")
    assert created.status_code == 201, created.json()
    return created.json()["data"]["id"]


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
