"""Testing connections: a saved source (its health fields are updated) or an unsaved create body."""
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.utils import timezone

from datasources.connectors import connector_for
from datasources.connectors.base import ConnectorError
from datasources.models import DataSource
from datasources.security.secret_refs import ReferenceUnresolved, is_reference, resolved_credentials
from datasources.services.connection_steps import steps_of
from datasources.services.deadline import call_with_deadline
from datasources.services.health_record import health_check_record
from datasources.services.limits import connection_test_slot
from datasources.services.rules import apply_rules
from datasources.services.sources import (
    create_target,
    data_source_updated_state,
    parse_input,
)
from rivergen import milestones

# The name is optional when only testing a create body.
UNSAVED_NAME = "connection test"
MASK = "***"


@dataclass
class TestResult:
    status: str  # "succeeded" or "failed"
    error_code: str | None
    message: str
    latency_ms: int
    server_version: str | None
    tested_at: datetime
    # {"encrypted", "verified", "protocol", "server_certificate"} of a test that got that far.
    tls: dict | None = None
    steps: list = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    def as_dict(self) -> dict:
        return asdict(self)


def connection_test_run(source: DataSource) -> TestResult:
    """Test ``source`` (saved or not) within its connection_timeout; never raises ConnectorError."""
    started = time.monotonic()
    connector = connector_for(source.type)()
    with milestones.recording() as marks:
        try:
            outcome = call_with_deadline(
                lambda: connector.test(source), source.connection_timeout, what="connection test"
            )
        except ConnectorError as exc:
            exc.message = scrub(exc.message, source)
            steps = steps_of(source, started, time.monotonic(), list(marks), error=exc)
            return TestResult("failed", exc.code, exc.message, _ms_since(started), None, timezone.now(), steps=steps)
    tls = outcome.tls if outcome else None
    return TestResult(
        "succeeded", None, "Connection succeeded.", _ms_since(started),
        outcome.server_version if outcome else None, timezone.now(),
        tls=tls, steps=steps_of(source, started, time.monotonic(), list(marks), tls=tls),
    )


def data_source_test_connection(*, source: DataSource, trigger: str = "manual", actor=None) -> TestResult:
    """Test a saved source and record the outcome (history row and health fields).

    With an ``actor`` (a request, not a job) the test takes a slot of ``limits``: TooBusy past them.
    """
    if actor is not None:
        with connection_test_slot(actor.pk, source):
            result = connection_test_run(source)
    else:
        result = connection_test_run(source)
    health_check_record(source=source, result=result, trigger=trigger, actor=actor)
    source.refresh_from_db(fields=[
        "status", "last_tested_at", "last_successful_connection_at", "last_failed_connection_at",
        "failure_count", "failure_reason",
    ])
    return result


def unsaved_source_test_connection(*, actor, data, organization=None) -> TestResult:
    """Validate a create body exactly as the create does, then test it; nothing is stored.

    ``organization`` is given only by the admin, which checks it (as for ``data_source_create``).
    """
    if isinstance(data, dict) and data.get("name") is None:
        data = {**data, "name": UNSAVED_NAME}
    values = parse_input(data)
    organization, workspace_id = create_target(organization, actor, values.pop("workspace_id", None))
    state = {**values, "workspace_id": workspace_id}
    apply_rules(state, organization)
    source = DataSource(organization=organization, **state)
    with connection_test_slot(actor.pk, source):
        return connection_test_run(source)


def edited_source_test_connection(*, source: DataSource, actor, data) -> TestResult:
    """Test ``source`` as ``data`` (an update body) would leave it; nothing is stored, not even health.

    Omitted secrets are the stored ones; a changed destination needs them sent again, as for a save.
    """
    state = data_source_updated_state(source=source, actor=actor, data=data)
    edited = DataSource(organization=source.organization, **state)
    with connection_test_slot(actor.pk, edited):
        return connection_test_run(edited)


def scrub(message: str, source: DataSource) -> str:
    """Mask any secret of ``source`` that a message quotes (connectors scrub too; this is the backstop)."""
    credentials = source.credentials if isinstance(source.credentials, dict) else {}
    secret_keys = connector_for(source.type).all_secret_keys()
    secrets = [str(credentials[k]) for k in secret_keys if credentials.get(k)]
    secrets += _referenced_values(credentials, source.organization_id)
    if isinstance(source.connection_string, str) and source.connection_string:
        secrets.append(source.connection_string)
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:  # masking one or two characters would garble the message, not protect
            message = message.replace(secret, MASK)
    return message


def _referenced_values(credentials, organization_id) -> list[str]:
    """The values behind the references (from the cache, as the test just read them)."""
    try:
        resolved = resolved_credentials(credentials, organization_id)
    except ReferenceUnresolved:
        return []
    return [value for key, value in resolved.items() if is_reference(credentials[key]) and isinstance(value, str)]


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
