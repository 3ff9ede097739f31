"""Webhooks and deliveries in the admin: read-only, for staff of the organization, never the secret."""
import pytest
from django.test import Client

from datasources.models import Webhook
from datasources.services.events import event_publish
from datasources.services.webhooks import webhook_create

pytestmark = pytest.mark.django_db


def staff(user):
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def webhook_and_secret(alice):
    return webhook_create(actor=alice, data={"url": "http://10.255.255.1:9/acme-hook",
                                             "events": ["data_source.health_changed"]})


def test_staff_of_the_organization_see_webhooks_and_deliveries_without_the_secret(charlie, org, webhook_and_secret):
    webhook, secret = webhook_and_secret
    (delivery,) = event_publish(organization_id=org.pk, type="data_source.health_changed", data={"x": 1})
    client = staff(charlie)  # a viewer who is staff: reading is enough
    for url in ("/admin/datasources/webhook/", f"/admin/datasources/webhook/{webhook.pk}/change/",
                "/admin/datasources/webhookdelivery/", f"/admin/datasources/webhookdelivery/{delivery.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert secret not in response.content.decode()
    assert "acme-hook" in client.get("/admin/datasources/webhook/").content.decode()


def test_nothing_can_be_added_changed_or_deleted(alice, webhook_and_secret):
    webhook, _ = webhook_and_secret
    client = staff(alice)
    assert client.get("/admin/datasources/webhook/add/").status_code == 403
    assert client.post(f"/admin/datasources/webhook/{webhook.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Webhook.objects.filter(pk=webhook.pk).exists()  # refused, and the row is still there
    page = client.get(f"/admin/datasources/webhook/{webhook.pk}/change/").content.decode()
    assert 'name="_save"' not in page


def test_staff_of_another_organization_see_none(oscar, webhook_and_secret):
    webhook, _ = webhook_and_secret
    client = staff(oscar)
    assert "acme-hook" not in client.get("/admin/datasources/webhook/").content.decode()
    response = client.get(f"/admin/datasources/webhook/{webhook.pk}/change/")
    assert response.status_code == 404 or (response.status_code == 302 and response["Location"] == "/admin/")
