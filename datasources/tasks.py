"""Celery tasks: thin wrappers that load ids and call the services."""
import logging

from celery import shared_task
from django.db import transaction

from datasources.models import DataSource
from datasources.services.connections import data_source_test_connection
from datasources.services.health_checks import health_checks_prune, health_checks_schedule, health_round_run
from datasources.services.webhook_delivery import deliveries_queue_due, delivery_attempt
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
    data_source_test_connection(source=source, trigger="created")
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


@shared_task(ignore_result=True)
def schedule_health_checks():
    """Periodic (celery beat): queue health rounds when sources are due."""
    health_checks_schedule()


@shared_task(ignore_result=True)
def run_health_round():
    health_round_run()


@shared_task(ignore_result=True)
def prune_health_checks():
    """Periodic (celery beat): delete checks older than HEALTH_CHECK_RETENTION_DAYS."""
    deleted = health_checks_prune()
    if deleted:
        logger.info("Pruned %d health check(s)", deleted)


@shared_task(ignore_result=True)
def deliver_webhook(delivery_id: int):
    delivery_attempt(delivery_id)


@shared_task(ignore_result=True)
def retry_webhook_deliveries():
    """Periodic (celery beat): queue the deliveries whose next attempt is due."""
    deliveries_queue_due()
