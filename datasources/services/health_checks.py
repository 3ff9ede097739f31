"""Scheduled connection tests: claim the sources that are due, test them concurrently, record each;
and prune checks past their retention (``health_checks_prune``, a periodic task).

A claim is a conditional UPDATE (due, and not claimed or the claim expired) that stamps a round's
token and an expiry of the source's own ``connection_timeout`` plus a margin. Two rounds therefore
never test one source at once, and a source whose worker died is claimable again as soon as that
expiry passes (well within one interval whenever the timeout is shorter than the interval).
The tests run in threads (``HEALTH_CHECK_CONCURRENCY`` per round); the round's own thread
claims and records, so only one database connection per round is used.
"""
import logging
import math
import uuid
from collections import defaultdict
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from datasources.models import DataSource, HealthCheck
from datasources.services.connections import TestResult, connection_test_run
from datasources.services.deadline import GRACE_SECONDS
from datasources.services.health_record import health_check_record
from datasources.services.jobs import enqueue_after_commit

logger = logging.getLogger(__name__)
CLAIM_MARGIN_SECONDS = 10
MAX_ROUNDS_QUEUED = 8
PRUNE_BATCH = 1000


@dataclass
class RoundReport:
    checked: int = 0
    failed: int = 0


def _due(now):
    """Sources due for a scheduled test: never tested (no next time yet) or past their next time."""
    return DataSource.objects.filter(health_check_interval__gt=0).filter(
        Q(health_next_check_at__isnull=True) | Q(health_next_check_at__lte=now)
    ).filter(Q(health_claimed_until__isnull=True) | Q(health_claimed_until__lte=now))


def health_checks_due_count(*, now=None) -> int:
    return _due(now or timezone.now()).count()


def health_checks_schedule(*, now=None) -> int:
    """Periodic (celery beat): queue enough rounds for what is due; rounds drain it together."""
    due = health_checks_due_count(now=now)
    rounds = min(MAX_ROUNDS_QUEUED, math.ceil(due / settings.HEALTH_CHECK_CONCURRENCY))
    for _ in range(rounds):
        enqueue_after_commit("run_health_round")
    return rounds


def health_checks_claim(*, limit: int, now=None) -> list[DataSource]:
    """Claim up to ``limit`` due sources for this caller alone."""
    return _claim(limit, now or timezone.now())[0]


def _claim(limit: int, now) -> tuple[list[DataSource], bool]:
    """The claimed sources, and whether more may be due (another round may have taken some)."""
    candidates = list(_due(now).order_by("health_next_check_at").values_list("pk", "connection_timeout")[:limit])
    by_timeout = defaultdict(list)
    for pk, timeout in candidates:
        by_timeout[timeout].append(pk)
    token = uuid.uuid4()
    for timeout, pks in by_timeout.items():
        # The WHERE is evaluated again under the row lock: a source another round claimed first is skipped.
        _due(now).filter(pk__in=pks).update(
            health_claim=token,
            health_claimed_until=now + timedelta(seconds=timeout + GRACE_SECONDS + CLAIM_MARGIN_SECONDS),
        )
    return list(DataSource.objects.filter(health_claim=token)), len(candidates) == limit


def health_round_run(*, concurrency: int | None = None) -> RoundReport:
    """Test every source that is due (and any that falls due while claiming), ``concurrency`` at once."""
    concurrency = concurrency or settings.HEALTH_CHECK_CONCURRENCY
    report = RoundReport()
    running, exhausted = {}, False

    def fill(pool):
        nonlocal exhausted
        free = concurrency - len(running)
        if free > 0 and not exhausted:
            claimed, more = _claim(free, timezone.now())
            exhausted = not more
            for source in claimed:
                running[pool.submit(_test, source)] = source

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="health-check") as pool:
        fill(pool)
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            finished = [(running.pop(future), future.result()) for future in done]
            fill(pool)  # the freed slots start their next tests before this thread writes the results
            for source, result in finished:
                health_check_record(source=source, result=result, trigger=HealthCheck.Trigger.SCHEDULED)
                report.checked += 1
                report.failed += 0 if result.succeeded else 1
    if report.checked:
        logger.info("Health round: %d checked, %d failed", report.checked, report.failed)
    return report


def _test(source: DataSource) -> TestResult:
    try:
        return connection_test_run(source)
    except Exception as exc:  # noqa: BLE001 - one broken source must not end the round
        logger.warning("Health check of source %s crashed: %s", source.pk, type(exc).__name__)
        return TestResult("failed", "CONNECTOR_FAILED", "The connection test failed unexpectedly.", 0, None,
                          timezone.now())


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
