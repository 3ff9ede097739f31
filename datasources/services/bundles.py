"""Sources as code: export an organization's sources as a bundle, plan a bundle against it, apply it.

A bundle is ``{"version": 1, "data_sources": [entry, ...]}``. An entry carries every configurable
field of the one declaration (``DataSourceInputSerializer``) that is not write-only, the workspace
by name, the non-secret credentials (``username``, ``warehouse``...) by value and the secret ones
only as the list of keys that are set (``credentials_set``): an export never holds a secret.

Planning validates every entry with the create and update rules (``data_source_created_state`` /
``data_source_updated_state``, a PUT: an omitted field takes its default, omitted secrets are kept)
before anything is written; applying then writes through ``data_source_create`` / ``_update`` /
``_delete`` in one transaction, under a lock on the organization row so that two applies run one
after the other. Entries match stored sources by ``name_key`` (trimmed, case-folded), as uniqueness does.
"""
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework import serializers

from accounts.models import Organization, Workspace
from accounts.selectors import write_target_of
from datasources.connectors import connector_for
from datasources.models import DataSource, name_key
from datasources.security.secret_refs import is_reference
from datasources.services.credentials import secrets_set
from datasources.services.inputs import DataSourceInputSerializer
from datasources.services.sources import (
    data_source_create,
    data_source_created_state,
    data_source_delete,
    data_source_update,
    data_source_updated_state,
)
from rivergen.errors import ConflictError

BUNDLE_VERSION = 1
# Readable configurable fields, in the declaration's order; the workspace goes by name instead of id.
EXPORTED_FIELDS = tuple(
    name for name, declared in DataSourceInputSerializer._declared_fields.items()
    if not declared.write_only and name != "workspace_id"
)
ENTRY_KEYS = ("workspace", *EXPORTED_FIELDS, "credentials", "credentials_set", "connection_string")
ACTIONS = ("create", "update", "unchanged", "delete")


def bundle_export(sources) -> dict:
    """The bundle of ``sources`` (a queryset), ordered by name; no secret value in it."""
    sources = list(sources.select_related("workspace").order_by("name_key", "id"))
    return {"version": BUNDLE_VERSION, "data_sources": [_entry(source) for source in sources]}


def _entry(source) -> dict:
    entry = {"name": source.name, "type": source.type,
             "workspace": source.workspace.name if source.workspace_id else None}
    entry.update((name, getattr(source, name)) for name in EXPORTED_FIELDS if name not in entry)
    secret_keys = connector_for(source.type).all_secret_keys()
    stored = source.credentials if isinstance(source.credentials, dict) else {}
    entry["credentials"] = {  # secrets never; references (not secrets) as written
        key: value for key, value in stored.items()
        if (key not in secret_keys or is_reference(value)) and value not in (None, "")
    }
    entry["credentials_set"] = list(secrets_set(source) or []) + (
        ["connection_string"] if source.connection_string else []
    )
    return entry


@dataclass
class Change:
    name: str
    action: str
    fields: dict = field(default_factory=dict)
    secrets: list = field(default_factory=list)
    source: DataSource | None = None
    data: dict | None = None

    def as_dict(self) -> dict:
        return {"name": self.name, "action": self.action, "fields": self.fields, "secrets": self.secrets}


def bundle_plan(*, actor, bundle, workspace_id=None, prune=False, organization=None) -> dict:
    """What applying ``bundle`` would do; nothing is written. ``organization``: given only by the
    admin, which checks it (as for ``data_source_create``)."""
    organization = organization or bundle_organization(actor, workspace_id)
    return _report(_changes(actor, organization, bundle, workspace_id, prune), dry_run=True)


def bundle_apply(*, actor, bundle, workspace_id=None, prune=False, organization=None) -> dict:
    """Apply ``bundle`` in one transaction (all of it or nothing) and report what was done."""
    organization = organization or bundle_organization(actor, workspace_id)
    with transaction.atomic():
        # Two applies to one organization take turns: the second plans against what the first wrote.
        Organization.objects.select_for_update().filter(pk=organization.pk).first()
        changes = _changes(actor, organization, bundle, workspace_id, prune)
        for change in changes:
            if change.action == "create":
                data_source_create(actor=actor, data=change.data, organization=organization)
            elif change.action == "update":
                data_source_update(source=change.source, actor=actor, data=change.data, partial=False)
            elif change.action == "delete":
                data_source_delete(source=change.source, actor=actor)
    return _report(changes, dry_run=False)


def bundle_organization(actor, workspace_id):
    """The caller's organization where the bundle applies (a write role needed, as for a create)."""
    return write_target_of(actor, workspace_id)[0]


def _report(changes, *, dry_run) -> dict:
    summary = {action: sum(change.action == action for change in changes) for action in ACTIONS}
    return {"dry_run": dry_run, "summary": summary, "changes": [change.as_dict() for change in changes]}


def _changes(actor, organization, bundle, workspace_id, prune) -> list[Change]:
    entries = _entries(bundle)
    if prune and workspace_id is None:
        raise ValidationError({"workspace_id": ["prune=true needs workspace_id: only that workspace is pruned."]})
    stored = {source.name_key: source for source in DataSource.objects.filter(organization=organization)}
    workspaces = dict(Workspace.objects.filter(organization=organization).values_list("name", "pk"))
    names = {pk: name for name, pk in workspaces.items()}
    changes, errors, listed = [], {}, set()
    for index, entry in enumerate(entries):
        try:
            data = _service_data(entry, workspaces)
            key = name_key(data["name"]) if isinstance(data.get("name"), str) else None
            if key is not None and key in listed:
                raise ValidationError({"name": ["This name appears twice in the bundle (names compare "
                                                "trimmed and case-insensitively)."]})
            listed.add(key)
            if key in stored:
                changes.append(_update(actor, stored[key], data, names))
            else:
                changes.append(_create(actor, organization, data, entry, names))
        except (serializers.ValidationError, ValidationError, ConflictError) as exc:
            errors.update(_keyed(f"data_sources[{index}]", exc))
    if errors:
        raise serializers.ValidationError(errors)
    if prune:
        changes += [Change(source.name, "delete", source=source) for key, source in sorted(stored.items())
                    if source.workspace_id == workspace_id and key not in listed]
    return changes


def _entries(bundle) -> list:
    if not isinstance(bundle, dict):
        raise ValidationError({"non_field_errors": ["A bundle is an object: {\"version\": 1, \"data_sources\": [...]}."]})
    if bundle.get("version") != BUNDLE_VERSION:
        raise ValidationError({"version": [f"Must be {BUNDLE_VERSION}."]})
    entries = bundle.get("data_sources")
    if not isinstance(entries, list):
        raise ValidationError({"data_sources": ["Must be a list of data sources."]})
    return entries  # other top-level keys (a note, an export date) are the file's own business


def _service_data(entry, workspaces) -> dict:
    """The create/update body of a bundle entry: the workspace named, ``credentials_set`` dropped."""
    if not isinstance(entry, dict):
        raise ValidationError({"non_field_errors": ["Must be an object."]})
    unknown = sorted(set(entry) - set(ENTRY_KEYS))
    if unknown:
        raise ValidationError({key: [f"Unknown key; accepted: {', '.join(ENTRY_KEYS)}."] for key in unknown})
    data = {key: value for key, value in entry.items() if key not in ("workspace", "credentials_set")}
    workspace = entry.get("workspace")
    if workspace is not None and (not isinstance(workspace, str) or workspace not in workspaces):
        raise ValidationError({"workspace": ["No workspace of this name in your organization."]})
    data["workspace_id"] = workspaces.get(workspace) if workspace is not None else None
    return data


def _create(actor, organization, data, entry, names) -> Change:
    _, state = data_source_created_state(actor=actor, data=data, organization=organization)
    missing = [key for key in entry.get("credentials_set") or []
               if key not in state["credentials"] and not (key == "connection_string" and state.get(key))]
    if missing:
        raise ValidationError({"credentials": [
            f"credentials_set lists {', '.join(missing)}, but a new source has nothing stored to keep: "
            "give the value (or a secret reference) in credentials."
        ]})
    fields = {name: {"from": None, "to": value} for name, value in _shown(state, names).items()
              if value not in (None, [], {})}
    secrets = _secret_keys(state) + (["connection_string"] if state.get("connection_string") else [])
    return Change(state["name"], "create", fields, secrets, data=data)


def _update(actor, source, data, names) -> Change:
    state = data_source_updated_state(source=source, actor=actor, data=data, partial=False)
    before = {name: getattr(source, name) for name in ("workspace_id", "type", *EXPORTED_FIELDS)}
    old = before["credentials"] = source.credentials if isinstance(source.credentials, dict) else {}
    before, after = _shown(before, names), _shown(state, names)
    fields = {name: {"from": before.get(name), "to": value} for name, value in after.items()
              if before.get(name) != value}
    secret_keys = connector_for(source.type).all_secret_keys()
    secrets = [key for key in secret_keys if _stored(old, key) != _stored(state["credentials"], key)]
    if state.get("connection_string") != source.connection_string:
        secrets.append("connection_string")
    action = "update" if fields or secrets else "unchanged"
    return Change(state["name"], action, fields, secrets, source=source, data=data)


def _shown(state, names) -> dict:
    """The plan's view of a state: the workspace by name, non-secret credentials by key."""
    shown = {"workspace": names.get(state.get("workspace_id"))}
    shown.update((name, state.get(name)) for name in EXPORTED_FIELDS)
    credentials = state.get("credentials") if isinstance(state.get("credentials"), dict) else {}
    secret_keys = connector_for(state["type"]).all_secret_keys()
    shown.update((f"credentials.{key}", value) for key, value in credentials.items()
                 if (key not in secret_keys or is_reference(value)) and value not in (None, ""))
    return shown


def _secret_keys(state) -> list:
    credentials = state["credentials"] if isinstance(state["credentials"], dict) else {}
    return [key for key in connector_for(state["type"]).all_secret_keys() if credentials.get(key) not in (None, "")]


def _stored(credentials, key):
    value = credentials.get(key) if isinstance(credentials, dict) else None
    return None if value == "" else value


def _keyed(prefix, exc) -> dict:
    if isinstance(exc, ConflictError):
        return {f"{prefix}.name": [str(exc)]}
    detail = exc.detail if isinstance(exc, serializers.ValidationError) else exc.message_dict
    if not isinstance(detail, dict):
        detail = {"non_field_errors": detail}
    out = {}
    for key, messages in detail.items():
        if isinstance(messages, dict):  # a nested field (credentials.password)
            for inner, value in _keyed(f"{prefix}.{key}", serializers.ValidationError(messages)).items():
                out[inner] = value
            continue
        where = prefix if key == "non_field_errors" else f"{prefix}.{key}"
        out[where] = [str(message) for message in messages]
    return out
