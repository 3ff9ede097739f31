"""Writing the audit log: ``record`` is the one way in; every service calls it inside the
transaction of its change, so that a rolled-back change leaves no event and no change commits
without one. ``audit_prune`` is the one way out (the retention period).

Who and where come from the caller's ``actor`` (a user; an API key's service identity counts as
the key) and from ``rivergen.request_context`` (request id, address, user agent, surface).
"""
import ipaddress
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection, transaction
from django.utils import timezone

from accounts.audit import ACTIONS, AuditEvent
from rivergen.request_context import current_request

SYSTEM = {"type": "system", "id": None, "label": "system"}
# The PostgreSQL trigger lets a DELETE through only while this transaction-local setting is on.
PRUNE_SETTING = "rivergen.audit_prune"


def record(action: str, *, organization_id, actor=None, target: tuple = (), changes: dict | None = None) -> AuditEvent:
    """Write one event; call it inside the transaction that makes the change.

    ``actor``: the user who acts (None: the request's user, else the system); ``target``:
    ``(type, id, name)``; ``changes``: ``{field: {"from", "to"}}`` with secrets as
    ``{"changed": True}`` (see ``field_changes``).
    """
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}")
    if not connection.in_atomic_block:
        raise RuntimeError("record() must run inside the transaction of the change it records.")
    context = current_request()
    if actor is None and context.request is not None:
        actor = getattr(context.request, "user", None)
    who = actor_of(actor)
    target_type, target_id, target_name = (*target, None, None, None)[:3]
    return AuditEvent.objects.create(
        organization_id=organization_id, action=action,
        actor_type=who["type"], actor_id=who["id"], actor_label=(who["label"] or "")[:255],
        target_type=target_type or "", target_id=target_id, target_name=(target_name or "")[:255],
        changes=changes or {}, request_id=context.id or "", ip=_address(context.ip),
        user_agent=context.user_agent, via=context.via,
    )


def _address(raw):
    try:
        return str(ipaddress.ip_address(raw)) if raw else None
    except ValueError:  # a proxy's header may carry anything
        return None


def actor_of(user) -> dict:
    """``{type, id, label}`` for ``user``: an API key's service identity is the key, anybody else a user."""
    if user is None or not getattr(user, "is_authenticated", False):
        return dict(SYSTEM)
    key = api_key_of(user)
    if key is not None:
        return {"type": "api_key", "id": key.pk, "label": getattr(key, "name", "") or getattr(key, "prefix", "")}
    return {"type": "user", "id": user.pk, "label": user.get_username()}


def api_key_of(user):
    """The API key whose service identity ``user`` is (``ApiKey.identity``, related name
    ``api_key``), or None; works before that model exists too."""
    try:
        return getattr(user, "api_key", None)
    except ObjectDoesNotExist:
        return None


def field_changes(before: dict, after: dict, *, secret=()) -> dict:
    """``{field: {"from", "to"}}`` for every field whose value differs; a ``secret`` field only
    says ``{"changed": True}``. ``before`` is ``{}`` for a creation."""
    changes = {}
    for field in dict.fromkeys([*before, *after]):
        old, new = before.get(field), after.get(field)
        if old == new:
            continue
        changes[field] = {"changed": True} if field in secret else {"from": old, "to": new}
    return changes


def audit_prune(now=None) -> int:
    """Delete events older than AUDIT_RETENTION_DAYS (the only delete the trigger allows)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, 'on', true)", [PRUNE_SETTING])
        deleted, _ = AuditEvent.objects.filter(occurred_at__lt=cutoff).delete()
    return deleted
