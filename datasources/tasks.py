"""Celery tasks: thin wrappers that load ids and call the services."""
import logging

from celery import shared_task
from django.db import transaction

from datasources.models import DataSource
from datasources.services.connections import data_source_test_connection
from datasources.services.discovery import (
    discovery_queue,
    discovery_run,
    due_for_refresh,
)

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def discover_schema(discovery_id: int):
    discovery_run(discovery_id)


@shared_task(ignore_result=True)
def test_connection(source_id: int):
    source = DataSource.objects.filter(pk=source_id).first()
    if source is not None:  # deleted since it was queued
        data_source_test_connection(source=source)


@shared_task(ignore_result=True)
def check_new_source(source_id: int):
    """A new source's first test, then its first discovery (the test says whether it is reachable)."""
    source = DataSource.objects.filter(pk=source_id).first()
    if source is None:
        return
    data_source_test_connection(source=source)
    with transaction.atomic():
        discovery_queue(source=source, actor=source.created_by)


@shared_task(ignore_result=True)
def refresh_due_schemas():
    """Periodic (celery beat): queue a discovery for every auto-refreshed source that is due."""
    due = due_for_refresh()
    for source in DataSource.objects.filter(pk__in=due):
        with transaction.atomic():
            discovery_queue(source=source)
    if due:
        logger.info("Queued schema refresh for %d source(s)", len(due))
