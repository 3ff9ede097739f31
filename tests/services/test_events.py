"""event_publish: one delivery per subscribed endpoint, sent after commit; the events we publish."""
import pytest
from django.db import transaction

from datasources.models import Discovery, WebhookDelivery
from datasources.services.discovery import discovery_queue, discovery_run
from datasources.services.events import event_publish
from datasources.services.webhooks import webhook_create
from tests.support import post_test

pytestmark = pytest.mark.django_db
ALL = ["data_source.health_changed", "data_source.schema_changed", "data_source.discovery_failed"]


def hook(actor, events=ALL):
    webhook, _secret = webhook_create(actor=actor, data={"url": "http://10.255.255.1:9/hook", "events": events})
    return webhook


def test_one_delivery_per_subscribed_endpoint_with_one_event_id(alice, oscar, org, django_capture_on_commit_callbacks):
    first, second = hook(alice), hook(alice)
    hook(alice, events=["data_source.schema_changed"])
    hook(oscar)  # another organization
    with django_capture_on_commit_callbacks() as queued:
        deliveries = event_publish(organization_id=org.pk, type="data_source.health_changed", data={"x": 1})
    assert {d.webhook_id for d in deliveries} == {first.pk, second.pk} and len(queued) == 2
    assert len({d.event_id for d in deliveries}) == 1
    assert deliveries[0].payload["data"] == {"x": 1} and deliveries[0].payload["organization_id"] == org.pk


def test_a_rolled_back_change_queues_nothing(alice, org, django_capture_on_commit_callbacks):
    hook(alice)
    with django_capture_on_commit_callbacks() as queued:
        with pytest.raises(RuntimeError), transaction.atomic():
            event_publish(organization_id=org.pk, type="data_source.health_changed", data={})
            raise RuntimeError
    assert queued == [] and not WebhookDelivery.objects.exists()


def test_a_failed_discovery_publishes_discovery_failed(alice, api, workspace, django_capture_on_commit_callbacks):
    hook(alice)
    source_id = api.post("/api/v1/data-sources", {
        "workspace_id": workspace.pk, "name": "Legacy", "type": "other", "schema_auto_refresh": False,
        "credentials": {},
    }, format="json").json()["data"]["id"]
    from datasources.models import DataSource

    with django_capture_on_commit_callbacks():
        discovery = discovery_queue(source=DataSource.objects.get(pk=source_id))
        discovery_run(discovery.pk)
    assert Discovery.objects.get(pk=discovery.pk).status == "failed"
    (delivery,) = WebhookDelivery.objects.filter(event_type="data_source.discovery_failed")
    data = delivery.payload["data"]
    assert (data["data_source_id"], data["discovery_id"]) == (source_id, discovery.pk)
    assert data["error_code"] and data["error_message"]


def test_the_first_failure_after_create_is_a_transition(alice, api, workspace, django_capture_on_commit_callbacks):
    hook(alice)
    source_id = api.post("/api/v1/data-sources", {
        "workspace_id": workspace.pk, "name": "Legacy", "type": "other", "schema_auto_refresh": False,
        "credentials": {},
    }, format="json").json()["data"]["id"]
    with django_capture_on_commit_callbacks():
        post_test(api, source_id)
        post_test(api, source_id)
    (delivery,) = WebhookDelivery.objects.filter(event_type="data_source.health_changed")
    assert (delivery.payload["data"]["from"], delivery.payload["data"]["to"]) == ("inactive", "error")


def test_schema_changed_carries_counts_breaking_and_a_link(alice, org, source):
    from datasources.services.events import schema_changed_publish

    hook(alice)
    schema_changed_publish(source=source, discovery_id=7, added=2, removed=1, changed=3, breaking=2)
    (delivery,) = WebhookDelivery.objects.filter(event_type="data_source.schema_changed")
    data = delivery.payload["data"]
    assert (data["added"], data["removed"], data["changed"], data["breaking"]) == (2, 1, 3, True)
    assert data["changes_url"] == f"/api/v1/data-sources/{source.pk}/schema/changes"
    assert data["discovery_url"] == f"/api/v1/data-sources/{source.pk}/discoveries/7"
