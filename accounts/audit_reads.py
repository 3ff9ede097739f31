"""Reads of the audit log: organization admins see their organizations' events, newest first."""
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from accounts.audit import ACTIONS, ACTOR_TYPES, TARGET_TYPES, AuditEvent
from accounts.selectors import administered_organization_ids
from rivergen.params import choice_param, int_param, moment_param

ADMINS_ONLY = "Only organization admins read the audit log."


def audit_events_visible_to(user) -> QuerySet:
    """Events of the organizations ``user`` administers; PermissionDenied for an admin of none."""
    organization_ids = administered_organization_ids(user, ADMINS_ONLY)
    return AuditEvent.objects.filter(organization_id__in=organization_ids).order_by("-occurred_at", "-id")


def audit_event_list(*, user, filters) -> QuerySet:
    """``audit_events_visible_to`` narrowed by the query parameters ``filters`` (a QueryDict):
    ``action`` (repeatable), ``actor_type``, ``actor_id``, ``target_type``, ``target_id``,
    ``organization_id``, ``since`` and ``until`` (ISO 8601; since inclusive, until exclusive)."""
    events = audit_events_visible_to(user)
    actions = filters.getlist("action")
    unknown = [a for a in actions if a not in ACTIONS]
    if unknown:
        raise ValidationError({"action": [f"Unknown action {unknown[0]!r}; one of {', '.join(ACTIONS)}."]})
    if actions:
        events = events.filter(action__in=actions)
    exact = {
        "actor_type": choice_param(filters, "actor_type", ACTOR_TYPES),
        "actor_id": int_param(filters, "actor_id"),
        "target_type": choice_param(filters, "target_type", TARGET_TYPES),
        "target_id": int_param(filters, "target_id"),
        "organization_id": int_param(filters, "organization_id"),
        "occurred_at__gte": moment_param(filters, "since"),
        "occurred_at__lt": moment_param(filters, "until"),
    }
    return events.filter(**{field: value for field, value in exact.items() if value is not None})


def audit_events_of_target(target_type: str, target_id: int, limit: int) -> list[AuditEvent]:
    """The last ``limit`` events about one object (the admin's panel; the caller has checked access)."""
    return list(AuditEvent.objects.filter(target_type=target_type, target_id=target_id)
                .order_by("-occurred_at", "-id")[:limit])
