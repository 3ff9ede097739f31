"""Schema discovery: queue a job, run the connector, store the catalogue and its changes in one transaction.

A failed or timed-out discovery stores nothing: the last good catalogue stays, and no change is recorded.
"""
import logging

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.audit_log import record
from datasources.catalogue.store import catalogue_replace
from datasources.connectors import connector_for
from datasources.connectors.base import ConnectorError
from datasources.models import DataSource, Discovery
from datasources.services.connections import scrub
from datasources.services.deadline import call_with_deadline
from datasources.services.events import discovery_failed_publish, schema_changed_publish
from datasources.services.jobs import enqueue_after_commit

logger = logging.getLogger(__name__)

ACTIVE = (Discovery.Status.QUEUED, Discovery.Status.RUNNING)


def discovery_queue(*, source: DataSource, actor=None) -> Discovery:
    """Record a queued discovery (and its audit event) and send it to the workers once committed."""
    with transaction.atomic():
        discovery = Discovery.objects.create(data_source=source, requested_by=actor)
        record("data_source.discovery_requested", organization_id=source.organization_id, actor=actor,
               target=("data_source", source.pk, source.name))
    enqueue_after_commit("discover_schema", discovery.pk, on_failure=lambda: _queue_failed(discovery.pk))
    return discovery


def _queue_failed(discovery_id: int):
    Discovery.objects.filter(pk=discovery_id, status=Discovery.Status.QUEUED).update(
        status=Discovery.Status.FAILED, error_code="QUEUE_UNAVAILABLE",
        error_message="The job queue could not be reached; try again later.", finished_at=timezone.now(),
    )


def discovery_run(discovery_id: int) -> Discovery | None:
    """Run a queued discovery; a job already taken by another worker is left alone."""
    claimed = Discovery.objects.filter(pk=discovery_id, status=Discovery.Status.QUEUED).update(
        status=Discovery.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    discovery = Discovery.objects.select_related("data_source").get(pk=discovery_id)
    source = discovery.data_source
    connector = connector_for(source.type)()
    deadline = source.connection_timeout + source.query_timeout
    try:
        tables = call_with_deadline(lambda: connector.discover(source), deadline, what="schema discovery")
        with transaction.atomic():  # the catalogue, its changes and their counts commit together
            stored = catalogue_replace(source=source, tables=tables or [], discovery=discovery)
            finished = _succeeded(discovery, stored)
            if finished.changes_found():  # never for the baseline; sent only if this commits
                schema_changed_publish(source=source, discovery_id=discovery_id, **finished.changes_summary())
    except ConnectorError as exc:
        message = scrub(exc.message, source)
        discovery_failed_publish(source=source, discovery_id=discovery_id, error_code=exc.code, error_message=message)
        return _finish(discovery, Discovery.Status.FAILED, error_code=exc.code, error_message=message)
    except Exception as exc:  # noqa: BLE001 - the job must end failed, never stay "running"
        logger.error("Discovery %s failed: %s", discovery_id, type(exc).__name__)
        _finish(discovery, Discovery.Status.FAILED, error_code="INTERNAL_ERROR",
                error_message="Storing the discovered schema failed.")
        raise
    return finished


def _succeeded(discovery: Discovery, stored) -> Discovery:
    counts = stored.counts
    return _finish(
        discovery, Discovery.Status.SUCCEEDED, table_count=stored.table_count, column_count=stored.column_count,
        changes_added=counts["added"], changes_removed=counts["removed"],
        changes_changed=counts["changed"], changes_breaking=counts["breaking"],
    )


def _finish(discovery: Discovery, status, **fields) -> Discovery:
    fields.update(status=status, finished_at=timezone.now())
    Discovery.objects.filter(pk=discovery.pk).update(**fields)
    for name, value in fields.items():
        setattr(discovery, name, value)
    return discovery


def due_for_refresh(now=None) -> list[int]:
    """Ids of auto-refreshed sources whose last discovery was queued at least an interval ago."""
    now = now or timezone.now()
    rows = (
        DataSource.objects.filter(schema_auto_refresh=True)
        .exclude(discoveries__status__in=ACTIVE)
        .annotate(last_queued=Max("discoveries__created_at"))
        .values_list("pk", "last_queued", "schema_refresh_interval")
    )
    return [
        pk for pk, last, interval in rows
        if last is None or (now - last).total_seconds() >= interval
    ]
