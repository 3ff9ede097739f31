"""Schema discovery: queue a job, run the connector, store the catalogue and its changes in one transaction.

A failed or timed-out discovery stores nothing: the last good catalogue stays, and no change is recorded.

Jobs are delivered at least once (a worker killed mid-run has its job redelivered), so a run first
claims its discovery: a token and an expiry of the run's own deadline plus a margin, taken under the
source's row lock while no other run of that source holds a live claim. A redelivered job whose
claim is still live, or whose source is busy, raises ``DiscoveryBusy`` and is retried later; once a
dead worker's claim expires, the next delivery takes over. Only the holder of the claim stores, under
the discovery's row lock, so a discovery never runs twice at once for a source and never stores twice.

Connectors that read their catalogue in chunks (PostgreSQL) are streamed into the store, which reads
only the tables whose server-side fingerprint changed (``full=True`` reads them all).
"""
import logging
import uuid
from datetime import timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.audit_log import record
from datasources.catalogue.store import catalogue_replace
from datasources.catalogue.stream import catalogue_store_chunks
from datasources.connectors import connector_for
from datasources.connectors.base import ConnectorError
from datasources.models import DataSource, Discovery
from datasources.services.connections import scrub
from datasources.services.deadline import GRACE_SECONDS, Prefetched, call_with_deadline
from datasources.services.events import discovery_failed_publish, schema_changed_publish
from datasources.services.jobs import enqueue_after_commit

logger = logging.getLogger(__name__)

ACTIVE = (Discovery.Status.QUEUED, Discovery.Status.RUNNING)
CLAIM_MARGIN_SECONDS = 10


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


class DiscoveryBusy(Exception):
    """The discovery, or another of its source, is running elsewhere: try again in ``retry_in`` seconds."""

    def __init__(self, retry_in: float):
        super().__init__(f"busy; retry in {retry_in:.0f} s")
        self.retry_in = retry_in


def discovery_run(discovery_id: int, *, full: bool = False) -> Discovery | None:
    """Run a queued discovery (or one whose run died); None when it is finished or gone."""
    token = uuid.uuid4()
    discovery = _claim(discovery_id, token)
    if discovery is None:
        return None
    source = discovery.data_source
    connector = connector_for(source.type)()
    deadline = source.connection_timeout + source.query_timeout
    streamed = getattr(connector, "chunked_reader", None) is not None
    try:
        # A whole read happens before the transaction; a streamed one is stored as it is read.
        tables = None if streamed else call_with_deadline(
            lambda: connector.discover(source), deadline, what="schema discovery")
        with transaction.atomic():  # the catalogue, its changes and their counts commit together
            stored = _store(connector, source, discovery, deadline, full, tables)
            # Checked (under the discovery's row lock) after the read, so that the connector never
            # waits on a lock of this transaction; a run that lost its claim rolls its store back.
            if not _still_held(discovery_id, token):
                transaction.set_rollback(True)
                return None  # the claim expired and another run took over: it stores, not this one
            finished = _succeeded(discovery, stored)
            if finished.changes_found():  # never for the baseline; sent only if this commits
                schema_changed_publish(source=source, discovery_id=discovery_id, **finished.changes_summary())
    except ConnectorError as exc:
        message = scrub(exc.message, source)
        with transaction.atomic():
            if not _still_held(discovery_id, token):
                return None
            discovery_failed_publish(source=source, discovery_id=discovery_id, error_code=exc.code,
                                     error_message=message)
            return _finish(discovery, Discovery.Status.FAILED, error_code=exc.code, error_message=message)
    except Exception as exc:  # noqa: BLE001 - the job must end failed, never stay "running"
        logger.error("Discovery %s failed: %s", discovery_id, type(exc).__name__)
        _finish(discovery, Discovery.Status.FAILED, error_code="INTERNAL_ERROR",
                error_message="Storing the discovered schema failed.")
        raise
    return finished


def _claim(discovery_id: int, token) -> Discovery | None:
    discovery = Discovery.objects.select_related("data_source").filter(pk=discovery_id).first()
    if discovery is None or discovery.status not in ACTIVE:
        return None
    source = discovery.data_source
    now = timezone.now()
    with transaction.atomic():
        # The source's row lock orders the runs of one source: each sees the claims committed before it.
        list(DataSource.objects.select_for_update().filter(pk=source.pk).values_list("pk"))
        held = Discovery.objects.filter(data_source=source, status=Discovery.Status.RUNNING, claimed_until__gt=now)
        busy_until = held.aggregate(until=Max("claimed_until"))["until"]
        if busy_until is not None:
            raise DiscoveryBusy((busy_until - now).total_seconds() + 1)
        lease = source.connection_timeout + source.query_timeout + GRACE_SECONDS + CLAIM_MARGIN_SECONDS
        claimed = Discovery.objects.filter(pk=discovery_id, status__in=ACTIVE).update(
            status=Discovery.Status.RUNNING, started_at=now, claim=token,
            claimed_until=now + timedelta(seconds=lease),
        )
    if not claimed:
        return None
    discovery.refresh_from_db()
    return discovery


def _still_held(discovery_id: int, token) -> bool:
    """Inside the storing transaction: lock the discovery and check that this run still holds it."""
    return Discovery.objects.select_for_update().filter(
        pk=discovery_id, claim=token, status=Discovery.Status.RUNNING,
    ).exists()


def _store(connector, source, discovery, deadline, full, tables):
    if tables is not None or getattr(connector, "chunked_reader", None) is None:
        return catalogue_replace(source=source, tables=tables or [], discovery=discovery)
    readers = []

    def read(choose):
        readers.append(Prefetched(connector.read_chunks(source, choose), deadline, what="schema discovery"))
        return readers[-1]

    try:
        return catalogue_store_chunks(source=source, read=read, discovery=discovery, full=full)
    finally:
        for reader in readers:
            reader.close()


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


def due_for_refresh(now=None, *, among=None) -> list[int]:
    """Ids of auto-refreshed sources whose last discovery was queued at least an interval ago."""
    now = now or timezone.now()
    sources = DataSource.objects.filter(schema_auto_refresh=True)
    if among is not None:
        sources = sources.filter(pk__in=among)
    rows = (
        sources.exclude(discoveries__status__in=ACTIVE)
        .annotate(last_queued=Max("discoveries__created_at"))
        .values_list("pk", "last_queued", "schema_refresh_interval")
    )
    return [
        pk for pk, last, interval in rows
        if last is None or (now - last).total_seconds() >= interval
    ]


def discoveries_queue_due(*, now=None) -> int:
    """Periodic (celery beat): queue a discovery for every source that is due; how many were queued.

    Each source is checked again under its row lock, so two beat processes (one started by
    mistake) never queue two refreshes of one source: the second sees the first's discovery.
    """
    queued = 0
    for pk in due_for_refresh(now):
        with transaction.atomic():
            source = DataSource.objects.select_for_update().filter(pk=pk).first()
            if source is not None and due_for_refresh(now, among=[pk]):
                discovery_queue(source=source)
                queued += 1
    return queued
