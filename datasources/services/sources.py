"""The only code that creates, updates or deletes a data source.

The API, the admin and ``manage.py create_datasource`` all call these functions
with the raw input; parsing, rules and the write happen here once.
"""
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import serializers

from accounts.models import Workspace
from accounts.selectors import can_write, check_workspace_in_scope, memberships_of, write_target_of
from datasources.connectors import connector_for
from datasources.models import DataSource, name_key
from datasources.security.crypto import Unreadable
from datasources.security.tls import VERIFYING, strength
from datasources.services.inputs import DataSourceInputSerializer
from datasources.services.jobs import enqueue_after_commit
from datasources.services.rules import apply_rules
from datasources.services.source_audit import (
    source_created_record,
    source_deleted_record,
    source_state,
    source_updated_record,
)
from rivergen.errors import ConflictError
from rivergen.fields import parse_object

# Where a stored secret is sent: changing any of these must come with the secret again.
DESTINATION_FIELDS = ("host", "port", "database_name", "connection_string", "ssh_host", "ssh_port")
MODEL_FIELDS = tuple(
    f for f in DataSourceInputSerializer._declared_fields if f not in ("workspace_id",)
)
CONNECTION_STRING_PARTS = ("host", "port", "database_name")
# What a PUT (a full replacement) resets when omitted; secrets are kept, nobody can read them back.
REPLACED_BY_PUT = tuple(f for f in MODEL_FIELDS if f not in ("credentials", "connection_string"))


def parse_input(data, *, partial=False) -> dict:
    return parse_object(DataSourceInputSerializer, data, partial=partial)


def data_source_create(*, actor, data, organization=None) -> DataSource:
    """Create a source for ``actor``; ``organization`` is given only by the admin, which checks it."""
    organization, state = data_source_created_state(actor=actor, data=data, organization=organization)
    now = timezone.now()
    source = DataSource(
        organization=organization, created_by=actor, created_at=now, updated_at=now, **state,
    )
    # The create queues the first test itself (trigger "created"): the first scheduled one is one interval later.
    interval = source.health_check_interval
    source.health_next_check_at = now + timedelta(seconds=interval) if interval else None
    _save(source, lambda: source_created_record(source, actor))
    if source.schema_auto_refresh and settings.DATASOURCES_CHECK_NEW_SOURCES:
        # The 201 answers at once; the first test and discovery run in the background.
        enqueue_after_commit("check_new_source", source.pk)
    return source


def data_source_created_state(*, actor, data, organization=None, every_error=False) -> tuple:
    """The organization and checked field values that creating a source from ``data`` would write;
    nothing is saved.

    ``every_error`` (the admin, which shows one round of errors per save): a malformed field is set
    aside and the rules still check the rest; the name is checked against the organization's sources;
    every problem is raised together.
    """
    errors = _Errors(every_error)
    try:
        values = errors.parse(data, partial=False)
    except serializers.ValidationError:
        if organization is None:
            memberships_of(actor)  # belonging to no organization is a 403 before any 400
        raise
    with errors.collect():
        organization, values["workspace_id"] = create_target(organization, actor, values.pop("workspace_id", None))
    state = {**dict.fromkeys(MODEL_FIELDS), "credentials": {}, **values} if every_error else values
    if "type" in state and organization is not None:
        with errors.collect():
            apply_rules(state, organization)
    if every_error and state.get("name") and organization is not None:
        with errors.collect():
            _check_name_free(organization.pk, state["name"])
    errors.raise_any()
    return organization, state


def data_source_update(*, source: DataSource, actor, data, partial=True) -> DataSource:
    """Apply ``data`` (a PATCH, or a PUT with ``partial=False``) to ``source`` for ``actor``.

    Credentials merge per key: an omitted key keeps its value, a key sent as null is
    removed. A PUT resets every omitted field to its default or null, except the
    secrets (``credentials``, ``connection_string``), which nobody can read back to
    resend. Stored secrets never follow a change of destination (``_check_rebind``).
    """
    state = data_source_updated_state(source=source, actor=actor, data=data, partial=partial)
    before = source_state(source)
    if state["health_check_interval"] != source.health_check_interval:
        source.health_next_check_at = timezone.now() if state["health_check_interval"] else None
    for field, value in state.items():
        setattr(source, field, value)
    source.updated_by = actor
    source.updated_at = timezone.now()
    _save(source, lambda: source_updated_record(source, before, actor))
    return source


def data_source_updated_state(*, source: DataSource, actor, data, partial=True, every_error=False) -> dict:
    """The checked field values that updating ``source`` with ``data`` would write; nothing is saved.

    The admin checks its form with it (``every_error``: see ``data_source_created_state``; a
    malformed field keeps its stored value meanwhile), and its "Test connection" on a change page
    tests these values (blank secrets keep the stored ones, and a changed destination needs them
    again, as for a save).
    """
    _require_write(actor, source)
    errors = _Errors(every_error)
    values = errors.parse(data, partial=partial)
    state = {field: getattr(source, field) for field in MODEL_FIELDS}
    state["workspace_id"] = source.workspace_id
    if not partial:
        state.update({field: None for field in REPLACED_BY_PUT}, workspace_id=None)
    if "workspace_id" in values:
        with errors.collect():
            workspace = workspace_in(source.organization, values.pop("workspace_id"))
            state["workspace_id"] = workspace.pk if workspace else None
        values.pop("workspace_id", None)
    with errors.collect():
        check_workspace_in_scope(actor, state["workspace_id"])  # a scoped key moves nothing out of its workspaces
    sent_credentials = values.pop("credentials", None)
    if values.get("connection_string"):
        # A new connection string says where to connect: fill what it implies afresh.
        state.update({f: None for f in CONNECTION_STRING_PARTS if f not in values})
    state.update(values)
    state["credentials"] = _merge_credentials(source.credentials, sent_credentials)
    with errors.collect():
        _apply_rules_keeping_unreadable(state, source.organization)
    with errors.collect():
        _check_rebind(source, state, sent_credentials or {}, sent_connection_string="connection_string" in values)
    if every_error and values.get("name"):
        with errors.collect():
            _check_name_free(source.organization_id, values["name"], source.pk)
    errors.raise_any()
    return state


def data_source_delete(*, source: DataSource, actor=None) -> None:
    """Delete ``source`` with what belongs to it (stored schema, history: they cascade)."""
    if actor is not None:
        _require_write(actor, source)
    with transaction.atomic():
        source_deleted_record(source, actor)
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


def create_target(organization, actor, workspace_id) -> tuple:
    """Where a new source goes, as (organization, workspace id): the organization the admin checked,
    else the write target of ``actor``'s memberships."""
    if organization is None:
        return write_target_of(actor, workspace_id)
    workspace = workspace_in(organization, workspace_id)
    return organization, workspace.pk if workspace else None


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
    if tls_weakened(connector_for(source.type), source, state):
        changed.append("tls")
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


def tls_weakened(connector, source, state) -> bool:
    """A weaker mode or another CA: the stored secrets could reach a server not proven before."""
    before, after = connector.tls_of(source.tls) or {}, connector.tls_of(state.get("tls")) or {}
    if strength(after.get("mode")) < strength(before.get("mode")):
        return True
    return before.get("mode") in VERIFYING and before.get("ca_certificate") != after.get("ca_certificate")


def _save(source: DataSource, audit):
    """Save ``source`` and its audit event in one transaction (a savepoint inside the admin's, which
    stays usable after a clash of names)."""
    try:
        with transaction.atomic():
            source.save()
            audit()
    except IntegrityError:
        _check_name_free(source.organization_id, source.name, source.pk)
        raise  # not the name: a real fault


def _check_name_free(organization_id, name, pk=None):
    """The one rule on names: unique per organization, compared by ``name_key``."""
    if DataSource.objects.filter(organization_id=organization_id, name_key=name_key(name)).exclude(pk=pk).exists():
        raise ConflictError(
            f'A data source named "{name.strip()}" already exists in this organization.',
            {"name": ["A data source with this name already exists in this organization."]},
        ) from None


class _Errors:
    """Raise each problem at once (the API, the CLI), or gather them all for one raise (the admin)."""

    def __init__(self, gather: bool):
        self.gather, self.details = gather, {}

    def parse(self, data, *, partial) -> dict:
        if not self.gather or not isinstance(data, dict):
            return parse_input(data, partial=partial)
        try:
            return parse_input(data, partial=partial)
        except serializers.ValidationError as exc:
            self.details.update(exc.detail)
        # The malformed fields are set aside so that the rules can still check the others.
        rest = {key: value for key, value in data.items() if key not in self.details}
        return parse_input(rest, partial=True)

    @contextmanager
    def collect(self):
        try:
            yield
        except (ValidationError, ConflictError) as exc:
            if not self.gather:
                raise
            found = {"name": [str(exc)]} if isinstance(exc, ConflictError) else exc.message_dict
            for field, messages in found.items():
                self.details.setdefault(field, messages)  # a field already wrong keeps its own error

    def raise_any(self):
        if self.details:
            raise serializers.ValidationError(self.details)
