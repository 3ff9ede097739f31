"""The only code that creates, updates or deletes a data source.

The API, the admin and ``manage.py create_datasource`` all call these functions
with the raw input; parsing, rules and the write happen here once.
"""
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import serializers

from accounts.selectors import memberships_of, write_target
from accounts.models import Workspace
from datasources.connectors import connector_for
from datasources.models import DataSource, name_key
from datasources.rules import apply_rules
from datasources.serializers import DataSourceInputSerializer
from rivergen.errors import ConflictError

# Where a stored secret is sent: changing any of these must come with the secret again.
DESTINATION_FIELDS = ("host", "port", "database_name", "connection_string", "ssh_host", "ssh_port")
MODEL_FIELDS = tuple(
    f for f in DataSourceInputSerializer._declared_fields if f not in ("workspace_id",)
)


def parse_input(data, *, partial=False) -> dict:
    if not isinstance(data, dict):
        raise serializers.ValidationError({"non_field_errors": ["The request body must be a JSON object."]})
    serializer = DataSourceInputSerializer(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def data_source_create(*, actor, data, organization=None) -> DataSource:
    """Create a source for ``actor``; ``organization`` is given only by the admin, which checks it."""
    memberships = None if organization else memberships_of(actor)
    values = parse_input(data)
    workspace_id = values.pop("workspace_id", None)
    if organization is None:
        organization, workspace = write_target(memberships, workspace_id)
    else:
        workspace = _workspace_in(organization, workspace_id)
    state = {**values, "workspace_id": workspace.pk if workspace else None}
    apply_rules(state, organization)
    now = timezone.now()
    source = DataSource(
        organization=organization, created_by=actor, created_at=now, updated_at=now, **state,
    )
    _save(source)
    if source.schema_auto_refresh:
        from datasources.tasks import queue_new_source_checks  # tasks import this module

        queue_new_source_checks(source)
    return source


def data_source_update(*, source: DataSource, actor, data, partial=True) -> DataSource:
    """Apply ``data`` to ``source``: credentials merge per key, a key sent as null is removed."""
    values = parse_input(data, partial=partial)
    state = {field: getattr(source, field) for field in MODEL_FIELDS}
    state["workspace_id"] = source.workspace_id
    if "workspace_id" in values:
        workspace = _workspace_in(source.organization, values.pop("workspace_id"))
        state["workspace_id"] = workspace.pk if workspace else None
    sent_credentials = values.pop("credentials", {})
    state.update(values)
    state["credentials"] = {**_readable(source.credentials), **sent_credentials}
    apply_rules(state, source.organization)
    _check_rebind(source, state, sent_credentials)
    for field, value in state.items():
        setattr(source, field, value)
    source.updated_by = actor
    source.updated_at = timezone.now()
    _save(source)
    return source


def data_source_delete(*, source: DataSource) -> None:
    source.delete()


def _workspace_in(organization, workspace_id):
    if workspace_id is None:
        return None
    workspace = Workspace.objects.filter(pk=workspace_id, organization=organization).first()
    if workspace is None:
        raise ValidationError({"workspace_id": ["Workspace not found."]})
    return workspace


def _readable(credentials):
    return credentials if isinstance(credentials, dict) else {}


def _check_rebind(source, state, sent_credentials):
    """Refuse to send stored secrets to a destination somebody just typed in."""
    stored = _readable(source.credentials)
    secret_keys = connector_for(source.type).all_secret_keys()
    stored_secrets = [k for k in secret_keys if stored.get(k)]
    changed = [f for f in DESTINATION_FIELDS if state.get(f) != getattr(source, f)]
    if state["credentials"].get("username") != stored.get("username"):
        changed.append("credentials.username")
    if not changed or not stored_secrets:
        return
    if any(sent_credentials.get(k) for k in secret_keys):
        return
    raise ValidationError({"credentials": [
        f"You changed where this source connects ({', '.join(changed)}); "
        f"re-enter {' / '.join(stored_secrets)} in credentials to use them there."
    ]})


def _save(source: DataSource):
    try:
        with transaction.atomic():
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
