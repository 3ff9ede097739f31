"""Delivering webhooks to a real HTTP server: signed, retried with growing delays, never redirected,
refused at delivery when the address is not allowed, and never showing the secret."""
import json
import logging
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from datasources.models import WebhookDelivery
from datasources.services.webhook_delivery import deliveries_queue_due, delivery_attempt
from tests.support.receiver import start_receiver, stop_receiver, verify

pytestmark = [pytest.mark.django_db, pytest.mark.loopback]  # the receivers are on loopback


def make_webhook(api, url, events=("data_source.health_changed",)):
    response = api.post("/api/v1/webhooks", {"url": url, "events": list(events)}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def ping(api, webhook_id, capture):
    with capture(execute=True):
        response = api.post(f"/api/v1/webhooks/{webhook_id}/ping")
    assert response.status_code == 202
    return WebhookDelivery.objects.get(pk=response.json()["data"]["id"])


def test_ping_is_signed_and_logged(api, org, receiver, django_capture_on_commit_callbacks):
    webhook = make_webhook(api, receiver.url)
    delivery = ping(api, webhook["id"], django_capture_on_commit_callbacks)
    (request,) = receiver.requests
    assert request.path == "/hooks/rivergen"
    assert verify(webhook["secret"], request.headers, request.body)
    assert request.headers["x-rivergen-event"] == "ping"
    assert request.headers["x-rivergen-delivery"] == str(delivery.delivery_id)
    body = json.loads(request.body)
    assert set(body) == {"id", "type", "created_at", "organization_id", "data"}
    assert (body["type"], body["organization_id"], body["data"]) == ("ping", org.pk, {"webhook_id": webhook["id"]})
    log = api.get(f"/api/v1/webhooks/{webhook['id']}/deliveries").json()
    (entry,) = log["data"]
    assert (entry["event"], entry["status"], entry["attempt"], entry["response_status"]) == ("ping", "succeeded", 1, 200)
    assert entry["next_retry_at"] is None and entry["attempt_log"][0]["response_status"] == 200
    assert log["pagination"]["total"] == 1


def test_a_tampered_body_or_a_rotated_secret_does_not_verify(api, receiver, django_capture_on_commit_callbacks):
    webhook = make_webhook(api, receiver.url)
    ping(api, webhook["id"], django_capture_on_commit_callbacks)
    request = receiver.requests[0]
    assert not verify(webhook["secret"], request.headers, request.body.replace(b"ping", b"pong"))
    new_secret = api.post(f"/api/v1/webhooks/{webhook['id']}/rotate-secret").json()["data"]["secret"]
    ping(api, webhook["id"], django_capture_on_commit_callbacks)
    assert verify(new_secret, receiver.requests[1].headers, receiver.requests[1].body)
    assert not verify(webhook["secret"], receiver.requests[1].headers, receiver.requests[1].body)


def test_a_receiver_answering_500_gets_retries_with_growing_delays(api, receiver, settings,
                                                                   django_capture_on_commit_callbacks):
    settings.WEBHOOK_RETRY_DELAYS = [30, 120, 300, 900, 2400]
    receiver.status = 500
    webhook = make_webhook(api, receiver.url)
    delivery = ping(api, webhook["id"], django_capture_on_commit_callbacks)
    now = timezone.now()
    for _ in range(10):  # the worker's sweep, with the clock moved to each due time
        delivery.refresh_from_db()
        if delivery.status != "pending":
            break
        now = delivery.next_attempt_at + timedelta(seconds=1)
        assert delivery_attempt(delivery.pk, now=now) is not None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 6, 500)
    assert len(receiver.requests) == 6
    log = api.get(f"/api/v1/webhooks/{webhook['id']}/deliveries").json()["data"][0]
    delays = [
        (datetime.fromisoformat(a["next_retry_at"]) - datetime.fromisoformat(a["attempted_at"])).total_seconds()
        for a in log["attempt_log"][:-1]
    ]
    assert delays == [30, 120, 300, 900, 2400] and log["attempt_log"][-1]["next_retry_at"] is None
    assert sum(delays) >= 3600  # about an hour in all
    assert [a["error"] for a in log["attempt_log"]] == ["HTTP 500"] * 6


def test_a_retry_is_not_sent_before_it_is_due_nor_twice(api, receiver, django_capture_on_commit_callbacks):
    receiver.status = 503
    webhook = make_webhook(api, receiver.url)
    delivery = ping(api, webhook["id"], django_capture_on_commit_callbacks)
    assert delivery_attempt(delivery.pk) is None  # next attempt is 30 s away
    delivery.refresh_from_db()
    later = delivery.next_attempt_at + timedelta(seconds=1)
    assert delivery_attempt(delivery.pk, now=later) is not None
    assert delivery_attempt(delivery.pk, now=later) is None  # claimed and rescheduled
    assert len(receiver.requests) == 2


def test_the_sweep_queues_due_retries(api, receiver, django_capture_on_commit_callbacks):
    receiver.status = 500
    webhook = make_webhook(api, receiver.url)
    delivery = ping(api, webhook["id"], django_capture_on_commit_callbacks)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    receiver.status = 204
    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries_queue_due() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("succeeded", 2)


def test_a_redirect_is_not_followed(api, receiver, django_capture_on_commit_callbacks):
    target = start_receiver()
    try:
        receiver.status, receiver.location = 302, target.url
        webhook = make_webhook(api, receiver.url)
        delivery = ping(api, webhook["id"], django_capture_on_commit_callbacks)
        delivery.refresh_from_db()
        assert target.requests == [] and len(receiver.requests) == 1
        assert delivery.status == "pending" and delivery.response_status == 302
        assert "redirects are not followed" in delivery.error
    finally:
        stop_receiver(target)


def test_an_address_the_policy_now_refuses_is_not_contacted(api, receiver, settings,
                                                            django_capture_on_commit_callbacks):
    webhook = make_webhook(api, receiver.url)  # allowed under "open" at creation
    settings.DATASOURCES_NETWORK_POLICY = "public"
    delivery = ping(api, webhook["id"], django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert receiver.requests == []
    assert delivery.response_status is None and delivery.error.startswith("DESTINATION_NOT_ALLOWED")


def test_a_metadata_address_is_refused_at_delivery(api, receiver, django_capture_on_commit_callbacks):
    from datasources.models import Webhook

    webhook = make_webhook(api, receiver.url)
    # As if the name now resolved to the metadata service (the check runs on every delivery).
    Webhook.objects.filter(pk=webhook["id"]).update(url="http://169.254.169.254/latest/meta-data")
    delivery = ping(api, webhook["id"], django_capture_on_commit_callbacks)
    delivery.refresh_from_db()
    assert delivery.error.startswith("DESTINATION_NOT_ALLOWED") and delivery.status == "pending"


def test_no_secret_in_deliveries_payloads_or_logs(api, receiver, caplog, django_capture_on_commit_callbacks):
    caplog.set_level(logging.DEBUG)
    receiver.status = 500
    webhook = make_webhook(api, receiver.url)
    ping(api, webhook["id"], django_capture_on_commit_callbacks)
    log = api.get(f"/api/v1/webhooks/{webhook['id']}/deliveries").content.decode()
    request = receiver.requests[0]
    for text in (log, caplog.text, request.body.decode(), json.dumps(list(WebhookDelivery.objects.values()),
                                                                         default=str)):
        assert webhook["secret"] not in text
    assert request.headers["x-rivergen-signature"] not in caplog.text


def test_inactive_or_unsubscribed_endpoints_get_no_event(api, org, receiver, django_capture_on_commit_callbacks):
    from datasources.services.events import event_publish

    make_webhook(api, receiver.url, events=["data_source.schema_changed"])
    inactive = make_webhook(api, receiver.url)
    api.patch(f"/api/v1/webhooks/{inactive['id']}", {"is_active": False}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        assert event_publish(organization_id=org.pk, type="data_source.health_changed", data={}) == []
    assert receiver.requests == []


def test_a_deactivated_endpoint_gets_no_more_retries(api, org, receiver, django_capture_on_commit_callbacks):
    from datasources.services.events import event_publish

    webhook = make_webhook(api, receiver.url)
    receiver.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        (delivery,) = event_publish(organization_id=org.pk, type="data_source.health_changed", data={})
    api.patch(f"/api/v1/webhooks/{webhook['id']}", {"is_active": False}, format="json")
    delivery.refresh_from_db()
    delivery_attempt(delivery.pk, now=delivery.next_attempt_at + timedelta(seconds=1))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(receiver.requests)) == ("failed", 2, 1)
    assert "deactivated" in delivery.error
