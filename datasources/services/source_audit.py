"""What the audit log says about a data source's create, update and delete.

Field values are recorded as they change, except the secrets (``connection_string`` and every
``credentials`` key, whatever it holds): for those only that they changed, never a value.
"""
from accounts.audit_log import field_changes, record
from datasources.models import DataSource
from datasources.services.inputs import DataSourceInputSerializer

PLAIN_FIELDS = tuple(
    f for f in DataSourceInputSerializer._declared_fields if f not in ("credentials", "connection_string")
)


def source_state(source: DataSource) -> tuple[dict, dict]:
    """(plain field values, secret values by name) of ``source`` as it stands in memory."""
    plain = {field: getattr(source, field) for field in PLAIN_FIELDS}
    credentials = source.credentials
    if isinstance(credentials, dict):
        secrets = {f"credentials.{key}": value for key, value in credentials.items() if value is not None}
    else:  # unreadable with the current keys: only its presence can be compared
        secrets = {"credentials": credentials} if credentials else {}
    if source.connection_string:
        secrets["connection_string"] = source.connection_string
    return plain, secrets


def _target(source):
    return ("data_source", source.pk, source.name)


def source_created_record(source: DataSource, actor) -> None:
    plain, secrets = source_state(source)
    changes = {**field_changes({}, plain), **field_changes({}, secrets, secret=secrets)}
    record("data_source.created", organization_id=source.organization_id, actor=actor, target=_target(source),
           changes=changes)


def source_updated_record(source: DataSource, before: tuple[dict, dict], actor) -> None:
    """``data_source.updated`` for the plain fields and ``data_source.credentials_changed`` for the
    secrets: one of them, or both when a change touched both."""
    plain, secrets = source_state(source)
    secret_changes = field_changes(before[1], secrets, secret=[*before[1], *secrets])
    plain_changes = field_changes(before[0], plain)
    if plain_changes or not secret_changes:
        record("data_source.updated", organization_id=source.organization_id, actor=actor,
               target=_target(source), changes=plain_changes)
    if secret_changes:
        record("data_source.credentials_changed", organization_id=source.organization_id, actor=actor,
               target=_target(source), changes=secret_changes)


def source_deleted_record(source: DataSource, actor) -> None:
    record("data_source.deleted", organization_id=source.organization_id, actor=actor, target=_target(source))
