"""Schema discovery: queue a job, run the connector, replace the stored catalogue in one transaction."""
import logging

from django.db import transaction
from django.utils import timezone

from datasources.catalog_models import Discovery, SchemaColumn, SchemaTable
from datasources.connection_services import scrub
from datasources.connectors import connector_for
from datasources.connectors.base import ConnectorError, DiscoveredTable
from datasources.models import DataSource
from datasources.watchdog import call_with_deadline

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
ACTIVE = (Discovery.Status.QUEUED, Discovery.Status.RUNNING)


def discovery_queue(*, source: DataSource, actor=None) -> Discovery:
    """Record a queued discovery and send it to the workers once the row is committed."""
    discovery = Discovery.objects.create(data_source=source, requested_by=actor)
    transaction.on_commit(lambda: _send(discovery.pk))
    return discovery


def _send(discovery_id: int):
    from datasources.tasks import discover_schema  # tasks imports this module

    try:
        discover_schema.delay(discovery_id)
    except Exception as exc:  # noqa: BLE001 - a broker outage must not turn into a 500 after commit
        logger.error("Could not queue discovery %s: %s", discovery_id, type(exc).__name__)
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
        table_count, column_count = catalogue_replace(source=source, tables=tables or [])
    except ConnectorError as exc:
        return _finish(discovery, Discovery.Status.FAILED, error_code=exc.code,
                       error_message=scrub(exc.message, source))
    except Exception as exc:  # noqa: BLE001 - the job must end failed, never stay "running"
        logger.error("Discovery %s failed: %s", discovery_id, type(exc).__name__)
        _finish(discovery, Discovery.Status.FAILED, error_code="INTERNAL_ERROR",
                error_message="Storing the discovered schema failed.")
        raise
    return _finish(discovery, Discovery.Status.SUCCEEDED, table_count=table_count, column_count=column_count)


def _finish(discovery: Discovery, status, **fields) -> Discovery:
    fields.update(status=status, finished_at=timezone.now())
    Discovery.objects.filter(pk=discovery.pk).update(**fields)
    for name, value in fields.items():
        setattr(discovery, name, value)
    return discovery


def catalogue_replace(*, source: DataSource, tables: list[DiscoveredTable]) -> tuple[int, int]:
    """Swap the stored catalogue for ``tables`` in one transaction; readers see old or new, never half."""
    table_rows = [
        SchemaTable(
            data_source_id=source.pk, schema_name=(t.schema or "")[:255], name=t.name[:1024],
            kind=t.kind if t.kind in SchemaTable.Kind.values else SchemaTable.Kind.TABLE,
            column_count=len(t.columns),
        )
        for t in tables
    ]
    with transaction.atomic():
        # Columns first, in one statement, so that deleting tables has nothing left to cascade.
        SchemaColumn.objects.filter(data_source_id=source.pk).delete()
        SchemaTable.objects.filter(data_source_id=source.pk).delete()
        # bulk_create sets primary keys on PostgreSQL and SQLite, which the columns need.
        SchemaTable.objects.bulk_create(table_rows, batch_size=BATCH_SIZE)
        column_count = _store_columns(source, tables, table_rows)
        DataSource.objects.filter(pk=source.pk).update(schema_discovered_at=timezone.now())
    return len(table_rows), column_count


def _store_columns(source, tables, table_rows) -> int:
    batch, stored = [], 0
    for table, row in zip(tables, table_rows):
        for index, column in enumerate(table.columns, start=1):
            batch.append(SchemaColumn(
                data_source_id=source.pk, table_id=row.pk, name=column.name[:1024],
                data_type=column.data_type or "", nullable=bool(column.nullable),
                primary_key=bool(column.primary_key), position=column.position or index,
            ))
        if len(batch) >= BATCH_SIZE:
            SchemaColumn.objects.bulk_create(batch)
            stored, batch = stored + len(batch), []
    SchemaColumn.objects.bulk_create(batch)
    return stored + len(batch)


def due_for_refresh(now=None) -> list[int]:
    """Ids of auto-refreshed sources whose last discovery was queued at least an interval ago."""
    from django.db.models import Max

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
