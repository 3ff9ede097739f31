"""Reads of webhook endpoints and their delivery log: only an organization's admins see them."""
from django.db.models import Prefetch, QuerySet

from accounts.selectors import administered_organization_ids
from datasources.models import Webhook, WebhookAttempt

ADMINS_ONLY = "Only organization admins manage webhooks."


def webhooks_visible_to(user) -> QuerySet:
    """The endpoints a user manages, newest first; PermissionDenied for a user who is admin nowhere."""
    organization_ids = administered_organization_ids(user, ADMINS_ONLY)
    return Webhook.objects.filter(organization_id__in=organization_ids).order_by("-created_at", "-id")


def webhook_deliveries(webhook: Webhook) -> QuerySet:
    """A visible endpoint's deliveries, newest first, each with its attempts in order."""
    return webhook.deliveries.order_by("-created_at", "-id").prefetch_related(
        Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number"))
    )
