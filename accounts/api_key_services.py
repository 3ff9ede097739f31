"""Create, rotate and revoke API keys: the only code that writes them.

Each runs in one transaction (and may be called inside a caller's), so that a key, its service
identity and its membership are written together or not at all. The key itself is returned
once, by ``api_key_create`` and ``api_key_rotate``; only its hash is stored.
"""
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework import serializers

from accounts.api_keys import IDENTITY_PREFIX, ApiKey, key_hash, new_key
from accounts.audit_log import record
from accounts.models import Membership, Role, Workspace
from accounts.selectors import (
    KEYS_ADMINS_ONLY,
    admin_organization_ids,
    administered_organization_id,
    require_key_manager,
)
from rivergen.errors import ConflictError
from rivergen.fields import StrictCharField, StrictIntegerField, StrictListField, parse_object
from rivergen.params import MAX_INT64




class ApiKeyInputSerializer(serializers.Serializer):
    name = StrictCharField(max_length=255)
    role = serializers.ChoiceField(choices=Role.choices)
    workspace_ids = StrictListField(
        child=StrictIntegerField(min_value=1, max_value=MAX_INT64), required=False, allow_null=True,
        min_length=1, max_length=100,
    )
    expires_in_days = StrictIntegerField(required=False, min_value=1, max_value=365, default=90)
    organization_id = StrictIntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_INT64)


def api_key_create(*, actor, data) -> tuple[ApiKey, str]:
    """A new key, its service identity and that identity's membership; returns (key row, key)."""
    require_key_manager(actor)
    values = parse_object(ApiKeyInputSerializer, data, partial=False)
    organization_id = administered_organization_id(actor, values.get("organization_id"), refused=KEYS_ADMINS_ONLY)
    workspace_ids = _workspaces_in(organization_id, values.get("workspace_ids"))
    prefix, key = new_key()
    with transaction.atomic():
        identity = get_user_model()(username=IDENTITY_PREFIX + prefix, is_active=True, is_staff=False)
        identity.set_unusable_password()
        identity.save()
        Membership.objects.create(user=identity, organization_id=organization_id, role=values["role"])
        api_key = ApiKey.objects.create(
            name=values["name"].strip(), prefix=prefix, key_hash=key_hash(key), role=values["role"],
            organization_id=organization_id, workspace_ids=workspace_ids, identity=identity,
            expires_at=timezone.now() + timedelta(days=values["expires_in_days"]), created_by=actor,
        )
        record("api_key.created", organization_id=organization_id, actor=actor, target=("api_key", api_key.pk, api_key.name),
               changes={"role": {"from": None, "to": api_key.role}, "workspace_ids": {"from": None, "to": workspace_ids},
                        "expires_at": {"from": None, "to": api_key.expires_at.isoformat()}})
    return api_key, key


def api_key_rotate(*, api_key: ApiKey, actor) -> str:
    """A new key for the same row and identity; the old key stops working at once."""
    _require_manage(actor, api_key)
    if api_key.revoked_at is not None or api_key.expires_at <= timezone.now():
        raise ConflictError("A revoked or expired key cannot be rotated; create a new one.")
    prefix, key = new_key()
    with transaction.atomic():
        api_key.prefix, api_key.key_hash = prefix, key_hash(key)
        api_key.save(update_fields=["prefix", "key_hash"])
        record("api_key.rotated", organization_id=api_key.organization_id, actor=actor,
               target=("api_key", api_key.pk, api_key.name), changes={"key": {"changed": True}})
    return key


def api_key_revoke(*, api_key: ApiKey, actor) -> ApiKey:
    """Stops the key at once; revoking a revoked key changes nothing."""
    _require_manage(actor, api_key)
    if api_key.revoked_at is not None:
        return api_key
    with transaction.atomic():
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        api_key.identity.is_active = False
        api_key.identity.save(update_fields=["is_active"])
        record("api_key.revoked", organization_id=api_key.organization_id, actor=actor,
               target=("api_key", api_key.pk, api_key.name))
    return api_key


def _require_manage(actor, api_key):
    require_key_manager(actor)
    if api_key.organization_id not in admin_organization_ids(actor):
        raise PermissionDenied(KEYS_ADMINS_ONLY)


def _workspaces_in(organization_id, workspace_ids):
    if workspace_ids is None:
        return None
    wanted = list(dict.fromkeys(workspace_ids))
    found = set(Workspace.objects.filter(organization_id=organization_id, pk__in=wanted).values_list("pk", flat=True))
    if len(found) != len(wanted):
        raise ValidationError({"workspace_ids": ["Workspace not found."]})
    return wanted
