"""Organization admins' webhook endpoints: create, change, delete, rotate the secret, ping.

The URL is checked against ``DATASOURCES_NETWORK_POLICY`` here and again at every delivery
(an address that was fine at creation may not be later). The signing secret is returned only
by ``webhook_create`` and ``webhook_rotate_secret``; it is stored encrypted.
"""
import secrets
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import RegexValidator
from django.db import transaction
from rest_framework import serializers

from accounts.audit_log import field_changes, record
from accounts.selectors import admin_organization_ids, administered_organization_id
from datasources.models import EVENT_TYPES, Webhook, WebhookDelivery
from datasources.models.webhooks import PING
from datasources.security import network
from datasources.selectors.webhooks import ADMINS_ONLY
from datasources.services.events import delivery_queue, event_body
from rivergen.errors import ConnectorError
from rivergen.fields import (
    ListedChoiceField,
    OptionalCharField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictListField,
    parse_object,
)

URL_SHAPE = r"^\s*[Hh][Tt][Tt][Pp][Ss]?://[^/?#@\s]+"


class WebhookInputSerializer(serializers.Serializer):
    organization_id = StrictIntegerField(required=False, allow_null=True, min_value=1)
    # The pattern documents the shape; webhook_url_check decides (resolution and network policy too).
    url = StrictCharField(max_length=2048, validators=[RegexValidator(URL_SHAPE, "Give an absolute http:// or https:// URL.")])
    events = StrictListField(child=ListedChoiceField(choices=EVENT_TYPES), min_length=1, error_messages={
        "min_length": "Choose at least one event.", "empty": "Choose at least one event.",
    })
    is_active = StrictBooleanField(required=False, default=True)
    description = OptionalCharField(max_length=500)

    def validate_url(self, value):
        return webhook_url_check(value.strip())

    def validate_events(self, value):
        return list(dict.fromkeys(value))


def webhook_url_check(url: str) -> str:
    try:
        parts, port = network.split_url(url)
    except ConnectorError as exc:
        raise serializers.ValidationError(exc.message) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise serializers.ValidationError("Give an absolute http:// or https:// URL.")
    if parts.username or parts.password:
        raise serializers.ValidationError("Put no credentials in the URL; verify the signature instead.")
    try:
        network.checked_address(parts.hostname, port)
    except ConnectorError as exc:
        raise serializers.ValidationError(exc.message) from None
    return url


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def webhook_create(*, actor, data) -> tuple[Webhook, str]:
    """A new endpoint and its signing secret (the only time the secret is returned)."""
    values = parse_object(WebhookInputSerializer, data, partial=False)
    organization_id = administered_organization_id(actor, values.pop("organization_id", None), refused=ADMINS_ONLY)
    secret = _new_secret()
    with transaction.atomic():
        webhook = Webhook.objects.create(
            organization_id=organization_id, created_by=actor, secret=secret,
            description=values.pop("description", None) or "", **values,
        )
        _record("webhook.created", webhook, actor, {**field_changes({}, _state(webhook)), "secret": {"changed": True}})
    return webhook, secret


def webhook_update(*, webhook: Webhook, actor, data, partial=True) -> Webhook:
    _require_admin(actor, webhook)
    values = parse_object(WebhookInputSerializer, data, partial=partial)
    values.pop("organization_id", None)  # an endpoint never moves between organizations
    if "description" in values or not partial:
        values["description"] = values.get("description") or ""
    before = _state(webhook)
    for field, value in values.items():
        setattr(webhook, field, value)
    with transaction.atomic():
        webhook.save()
        _record("webhook.updated", webhook, actor, field_changes(before, _state(webhook)))
    return webhook


def webhook_delete(*, webhook: Webhook, actor) -> None:
    _require_admin(actor, webhook)
    with transaction.atomic():
        _record("webhook.deleted", webhook, actor)
        webhook.delete()


def webhook_rotate_secret(*, webhook: Webhook, actor) -> str:
    """A new secret replaces the old one at once; deliveries from now on are signed with it."""
    _require_admin(actor, webhook)
    secret = _new_secret()
    webhook.secret = secret
    with transaction.atomic():
        webhook.save(update_fields=["secret", "updated_at"])
        _record("webhook.secret_rotated", webhook, actor, {"secret": {"changed": True}})
    return secret


def webhook_ping(*, webhook: Webhook, actor) -> WebhookDelivery:
    """Queue a ``ping`` event to this endpoint alone (sent even when it is inactive)."""
    _require_admin(actor, webhook)
    body = event_body(event_id=uuid.uuid4(), type=PING, organization_id=webhook.organization_id,
                      data={"webhook_id": webhook.pk})
    with transaction.atomic():
        return delivery_queue(webhook=webhook, body=body)


def _require_admin(actor, webhook):
    if webhook.organization_id not in admin_organization_ids(actor):
        raise PermissionDenied(ADMINS_ONLY)


def _state(webhook: Webhook) -> dict:
    return {field: getattr(webhook, field) for field in ("url", "events", "is_active", "description")}


def _record(action: str, webhook: Webhook, actor, changes=None) -> None:
    record(action, organization_id=webhook.organization_id, actor=actor,
           target=("webhook", webhook.pk, webhook.url), changes=changes)
