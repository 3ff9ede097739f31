"""Reads of a source's health history, shared by the API and the admin.

``health_summary`` is what the health endpoint and the admin's panel show, for a source read
through ``selectors.sources.data_source_for`` (or the admin's scoped queryset).
"""
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from datasources.models import DataSource, HealthCheck
from rivergen.params import choice_param

WINDOWS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
DEFAULT_WINDOW = "24h"
LAST_CHECKS = 20


def health_window(params, name: str = "window", *, lenient: bool = False) -> str:
    """The window asked for in ``params`` (a QueryDict); absent is 24h, anything else a 400
    (``lenient``, as the admin's panel links are: the default)."""
    try:
        return choice_param(params, name, WINDOWS, default=DEFAULT_WINDOW)
    except ValidationError:
        if lenient:
            return DEFAULT_WINDOW
        raise


def health_checks_of(source: DataSource) -> QuerySet:
    """The source's checks, newest first."""
    return HealthCheck.objects.filter(data_source=source).order_by("-checked_at", "-id")


def health_summary(*, source: DataSource, window: str = DEFAULT_WINDOW, now=None) -> dict:
    """Current status and since when, uptime, counts and latency percentiles in ``window``, last checks."""
    now = now or timezone.now()
    since = now - WINDOWS[health_window({"window": window})]
    rows = list(
        HealthCheck.objects.filter(data_source=source, checked_at__gte=since)
        .values_list("status", "latency_ms")
    )
    checks = len(rows)
    failures = sum(1 for status, _ in rows if status == HealthCheck.Status.FAILED)
    latencies = sorted(latency for status, latency in rows if status == HealthCheck.Status.SUCCEEDED)
    return {
        "data_source_id": source.pk,
        "window": window,
        "status": source.status,
        "status_since": _status_since(source),
        "uptime_percent": round(100 * (checks - failures) / checks, 2) if checks else None,
        "checks": checks,
        "failures": failures,
        "latency_ms": {"p50": _percentile(latencies, 50), "p95": _percentile(latencies, 95)},
        "last_checks": list(health_checks_of(source)[:LAST_CHECKS]),
    }


def _status_since(source: DataSource):
    """When the current run of same-outcome checks began (the oldest kept check if it never changed)."""
    history = health_checks_of(source)
    latest = history.first()
    if latest is None:
        return None
    changed = history.exclude(status=latest.status).first()
    run = history.filter(checked_at__gt=changed.checked_at) if changed else history
    return run.order_by("checked_at", "id").values_list("checked_at", flat=True).first()


def _percentile(ordered: list[int], percent: int) -> int | None:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return None
    rank = max(1, -(-percent * len(ordered) // 100))  # ceil without floats
    return ordered[rank - 1]
