"""Publishing events to an organization's webhooks: one function, whatever the event.

``event_publish`` records one delivery per active endpoint subscribed to the type and queues each
once the caller's transaction commits (a rolled-back change publishes nothing). Delivery, signing
and retries live in ``services.webhook_delivery``.
"""
import uuid

from django.utils import timezone

from datasources.models import Webhook, WebhookDelivery
from datasources.services.jobs import enqueue_after_commit


def event_body(*, event_id, type: str, organization_id: int, data: dict, created_at=None) -> dict:
    """The JSON every receiver gets: ``{id, type, created_at, organization_id, data}``."""
    created_at = created_at or timezone.now()
    return {
        "id": str(event_id), "type": type, "created_at": created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "organization_id": organization_id, "data": data,
    }


def event_publish(*, organization_id: int, type: str, data: dict) -> list[WebhookDelivery]:
    """Send event ``type`` with ``data`` (no secrets) to every subscribed, active endpoint."""
    webhooks = [
        hook for hook in Webhook.objects.filter(organization_id=organization_id, is_active=True)
        if type in (hook.events or [])
    ]
    if not webhooks:
        return []
    body = event_body(event_id=uuid.uuid4(), type=type, organization_id=organization_id, data=data)
    return [delivery_queue(webhook=hook, body=body) for hook in webhooks]


def delivery_queue(*, webhook: Webhook, body: dict) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        webhook=webhook, event_id=body["id"], event_type=body["type"], payload=body,
        next_attempt_at=timezone.now(),
    )
    # If the broker is down the delivery stays due, and the periodic sweep sends it.
    enqueue_after_commit("deliver_webhook", delivery.pk)
    return delivery


def discovery_failed_publish(*, source, discovery_id: int, error_code: str, error_message: str) -> None:
    """``data_source.discovery_failed``: the message is already scrubbed of the source's secrets."""
    event_publish(organization_id=source.organization_id, type="data_source.discovery_failed", data={
        "data_source_id": source.pk, "data_source_name": source.name, "discovery_id": discovery_id,
        "error_code": error_code, "error_message": error_message,
    })


def schema_changed_publish(*, source, discovery_id: int, added: int, removed: int, changed: int,
                           breaking: int) -> None:
    """``data_source.schema_changed``, for a discovery that recorded differences (counts of change rows)."""
    event_publish(organization_id=source.organization_id, type="data_source.schema_changed", data={
        "data_source_id": source.pk, "data_source_name": source.name, "discovery_id": discovery_id,
        "added": added, "removed": removed, "changed": changed, "breaking": breaking > 0,
        "breaking_count": breaking,
        "changes_url": f"/api/v1/data-sources/{source.pk}/schema/changes",
        "discovery_url": f"/api/v1/data-sources/{source.pk}/discoveries/{discovery_id}",
    })
