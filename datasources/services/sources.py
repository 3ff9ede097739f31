"""The only code that creates, updates or deletes a data source.

The API, the admin and ``manage.py create_datasource`` all call these functions
with the raw input; parsing, rules and the write happen here once.
"""
from contextlib import nullcontext

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import serializers

from accounts.models import Workspace
from accounts.selectors import can_write, memberships_of, write_target_of
from datasources.connectors import connector_for
from datasources.models import DataSource, name_key
from datasources.security.crypto import Unreadable
from datasources.services.inputs import DataSourceInputSerializer
from datasources.services.jobs import enqueue_after_commit
from datasources.services.rules import apply_rules
from rivergen.errors import ConflictError

# Where a stored secret is sent: changing any of these must come with the secret again.
DESTINATION_FIELDS = ("host", "port", "database_name", "connection_string", "ssh_host", "ssh_port")
MODEL_FIELDS = tuple(
    f for f in DataSourceInputSerializer._declared_fields if f not in ("workspace_id",)
)
CONNECTION_STRING_PARTS = ("host", "port", "database_name")
# What a PUT (a full replacement) resets when omitted; secrets are kept, nobody can read them back.
REPLACED_BY_PUT = tuple(f for f in MODEL_FIELDS if f not in ("credentials", "connection_string"))


def parse_input(data, *, partial=False) -> dict:
    if not isinstance(data, dict):
        raise serializers.ValidationError({"non_field_errors": ["The request body must be a JSON object."]})
    serializer = DataSourceInputSerializer(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def data_source_create(*, actor, data, organization=None) -> DataSource:
    """Create a source for ``actor``; ``organization`` is given only by the admin, which checks it."""
    try:
        values = parse_input(data)
    except serializers.ValidationError:
        if organization is None:
            memberships_of(actor)  # belonging to no organization is a 403 before any 400
        raise
    workspace_id = values.pop("workspace_id", None)
    if organization is None:
        organization, workspace_id = write_target_of(actor, workspace_id)
    else:
        workspace = workspace_in(organization, workspace_id)
        workspace_id = workspace.pk if workspace else None
    state = {**values, "workspace_id": workspace_id}
    apply_rules(state, organization)
    now = timezone.now()
    source = DataSource(
        organization=organization, created_by=actor, created_at=now, updated_at=now, **state,
    )
    source.health_next_check_at = now if source.health_check_interval else None  # due at the next round
    _save(source)
    if source.schema_auto_refresh and settings.DATASOURCES_CHECK_NEW_SOURCES:
        # The 201 answers at once; the first test and discovery run in the background.
        enqueue_after_commit("check_new_source", source.pk)
    return source


def data_source_update(*, source: DataSource, actor, data, partial=True) -> DataSource:
    """Apply ``data`` (a PATCH, or a PUT with ``partial=False``) to ``source`` for ``actor``.

    Credentials merge per key: an omitted key keeps its value, a key sent as null is
    removed. A PUT resets every omitted field to its default or null, except the
    secrets (``credentials``, ``connection_string``), which nobody can read back to
    resend. Stored secrets never follow a change of destination (``_check_rebind``).
    """
    state = data_source_updated_state(source=source, actor=actor, data=data, partial=partial)
    if state["health_check_interval"] != source.health_check_interval:
        source.health_next_check_at = timezone.now() if state["health_check_interval"] else None
    for field, value in state.items():
        setattr(source, field, value)
    source.updated_by = actor
    source.updated_at = timezone.now()
    _save(source)
    return source


def data_source_updated_state(*, source: DataSource, actor, data, partial=True) -> dict:
    """The checked field values that updating ``source`` with ``data`` would write; nothing is saved.

    The admin's "Test connection" on a change page tests these (blank secrets keep the stored ones,
    and a changed destination needs them again, as for a save).
    """
    _require_write(actor, source)
    values = parse_input(data, partial=partial)
    state = {field: getattr(source, field) for field in MODEL_FIELDS}
    state["workspace_id"] = source.workspace_id
    if not partial:
        state.update({field: None for field in REPLACED_BY_PUT}, workspace_id=None)
    if "workspace_id" in values:
        workspace = workspace_in(source.organization, values.pop("workspace_id"))
        state["workspace_id"] = workspace.pk if workspace else None
    sent_credentials = values.pop("credentials", None)
    if values.get("connection_string"):
        # A new connection string says where to connect: fill what it implies afresh.
        state.update({f: None for f in CONNECTION_STRING_PARTS if f not in values})
    state.update(values)
    state["credentials"] = _merge_credentials(source.credentials, sent_credentials)
    _apply_rules_keeping_unreadable(state, source.organization)
    _check_rebind(source, state, sent_credentials or {}, sent_connection_string="connection_string" in values)
    return state


def data_source_delete(*, source: DataSource, actor=None) -> None:
    """Delete ``source`` with what belongs to it (stored schema, history: they cascade)."""
    if actor is not None:
        _require_write(actor, source)
    with transaction.atomic():
        source.delete()


def _require_write(actor, source):
    if not can_write(actor, source.organization):
        raise PermissionDenied("Your role in this organization may not change data sources.")


def _merge_credentials(stored, sent):
    if sent is None:
        return stored  # may be Unreadable: kept as the very bytes it was
    if isinstance(stored, Unreadable):
        return dict(sent)  # re-entered: nothing readable to merge with
    return {**stored, **sent}


def _apply_rules_keeping_unreadable(state, organization):
    """Run the rules on readable values; an unreadable secret that was not replaced stays as it is."""
    kept = {f: state[f] for f in ("credentials", "connection_string") if isinstance(state[f], Unreadable)}
    for field in kept:
        state[field] = {} if field == "credentials" else None
    apply_rules(state, organization)
    state.update(kept)


def workspace_in(organization, workspace_id):
    if workspace_id is None:
        return None
    workspace = Workspace.objects.filter(pk=workspace_id, organization=organization).first()
    if workspace is None:
        raise ValidationError({"workspace_id": ["Workspace not found."]})
    return workspace


def _readable(credentials):
    return credentials if isinstance(credentials, dict) else {}


def _check_rebind(source, state, sent_credentials, *, sent_connection_string):
    """Refuse to send stored secrets to a destination somebody just typed in.

    When a destination field changes, every stored secret that would be kept must
    be sent again (or removed with null) in the same request.
    """
    stored = _readable(source.credentials)
    changed = [f for f in DESTINATION_FIELDS if state.get(f) != getattr(source, f)]
    if isinstance(state["credentials"], dict) and state["credentials"].get("username") != stored.get("username"):
        changed.append("credentials.username")
    if not changed:
        return
    secret_keys = connector_for(source.type).all_secret_keys()
    missing = [k for k in secret_keys if stored.get(k) and k not in sent_credentials]
    if isinstance(source.credentials, Unreadable) and not sent_credentials:
        missing.append("credentials")
    if source.connection_string and not sent_connection_string:
        missing.append("connection_string")
    if missing:
        raise ValidationError({"credentials": [
            f"You changed where this source connects ({', '.join(changed)}); "
            f"re-enter {', '.join(missing)} (or send null to remove it) to use them there."
        ]})


def _save(source: DataSource):
    # Outside a transaction the INSERT or UPDATE is atomic by itself: BEGIN and COMMIT would
    # only add two round trips. Inside one (the admin), the savepoint keeps it usable after a clash.
    connection = transaction.get_connection()
    try:
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            source.save()
    except IntegrityError:
        taken = DataSource.objects.filter(
            organization_id=source.organization_id, name_key=name_key(source.name)
        ).exclude(pk=source.pk).exists()
        if not taken:
            raise
        raise ConflictError(
            f'A data source named "{source.name.strip()}" already exists in this organization.',
            {"name": ["A data source with this name already exists in this organization."]},
        ) from None
