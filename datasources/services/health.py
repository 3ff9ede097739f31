"""Retention of a source's health history: ``health_checks_prune`` deletes rows older than
``HEALTH_CHECK_RETENTION_DAYS`` in small batches (a periodic task). The reads are in
``datasources.selectors.health``.
"""
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from datasources.models import HealthCheck

PRUNE_BATCH = 1000


def health_checks_prune(*, now=None, batch_size: int = PRUNE_BATCH, max_batches: int = 1000) -> int:
    """Delete checks older than the retention, ``batch_size`` rows per statement; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.HEALTH_CHECK_RETENTION_DAYS)
    deleted = 0
    for _ in range(max_batches):
        ids = list(HealthCheck.objects.filter(checked_at__lt=cutoff).values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        deleted += HealthCheck.objects.filter(pk__in=ids).delete()[0]
    return deleted
