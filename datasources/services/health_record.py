"""Recording a connection test: the history row, the source's health fields, the next scheduled check.

Every test goes through ``health_check_record`` (the API's, the admin's, the one after a create and
the scheduled ones), so the source's spec fields always follow the latest check and a change of
state (active <-> error, or the first failure after a create) publishes one ``health_changed`` event.
"""
from datetime import timedelta

from django.db import transaction
from django.db.models import F

from accounts.audit_log import field_changes, record
from datasources.models import DataSource, HealthCheck, Status
from datasources.security.tls import parse_utc
from datasources.services.events import event_publish
from datasources.services.expiry import certificate_fields
from rivergen.serializers import utc_text

HEALTH_CHANGED = "data_source.health_changed"


def health_check_record(*, source: DataSource, result, trigger: str = HealthCheck.Trigger.MANUAL,
                        actor=None) -> HealthCheck:
    """Store ``result`` (a connections.TestResult) as the latest check of ``source``, with its
    ``data_source.tested`` audit event (``actor`` None: the request's user, or the system)."""
    with transaction.atomic():
        # The row lock orders concurrent checks of one source, so each sees the status it changes.
        previous = (
            DataSource.objects.select_for_update().filter(pk=source.pk)
            .values_list("status", "health_check_interval", "tls_expiry_announced").first()
        )
        if previous is None:  # deleted while it was being tested
            return HealthCheck(data_source=source, checked_at=result.tested_at, status=result.status)
        check = _apply(source, result, trigger, *previous, actor=actor)
        check.save()
    return check


def health_checks_record_many(*, results: list, trigger: str = HealthCheck.Trigger.SCHEDULED) -> int:
    """Store many ``(source, result)`` pairs in one transaction, each as ``health_check_record`` would.

    A scheduled round writes what finished together at once: one lock statement and one insert
    instead of a transaction per source, which is most of a large round's database time.
    """
    with transaction.atomic():
        pks = sorted(source.pk for source, _ in results)  # one lock order: no deadlock with another writer
        previous = {
            pk: (status, interval, announced) for pk, status, interval, announced in DataSource.objects
            .select_for_update().filter(pk__in=pks).order_by("pk")
            .values_list("pk", "status", "health_check_interval", "tls_expiry_announced")
        }
        checks = [
            _apply(source, result, trigger, *previous[source.pk])
            for source, result in results if source.pk in previous  # else deleted while tested
        ]
        HealthCheck.objects.bulk_create(checks)
    return len(checks)


def _apply(source: DataSource, result, trigger: str, before: str, interval: int, announced: str | None,
           actor=None) -> HealthCheck:
    """Update the source's health and certificate fields (its row is locked), record the
    ``data_source.tested`` audit event (``actor`` None: the request's user, or the system) and
    publish a change; the unsaved check."""
    after = Status.ACTIVE if result.succeeded else Status.ERROR
    certificate = (result.tls or {}).get("server_certificate")
    DataSource.objects.filter(pk=source.pk).update(
        **_health_fields(result), **_next_check(result.tested_at, interval),
        **certificate_fields(source, result, certificate, announced),
    )
    record("data_source.tested", organization_id=source.organization_id, actor=actor,
           target=("data_source", source.pk, source.name),
           changes=field_changes({"status": before}, {"status": after}))
    if _is_transition(before, after):
        event_publish(organization_id=source.organization_id, type=HEALTH_CHANGED, data={
            "data_source_id": source.pk, "data_source_name": source.name,
            "from": before, "to": after, "error_code": result.error_code,
            "checked_at": utc_text(result.tested_at),
        })
    return HealthCheck(
        data_source_id=source.pk, checked_at=result.tested_at, status=result.status,
        error_code=result.error_code, message=result.message or "", latency_ms=result.latency_ms,
        trigger=trigger, certificate_not_after=parse_utc(certificate["not_after"]) if certificate else None,
    )


def _is_transition(before: str, after: str) -> bool:
    if before == after:
        return False
    # inactive -> active is a new source working as expected; inactive -> error is its first failure.
    return not (before == Status.INACTIVE and after == Status.ACTIVE)


def _health_fields(result) -> dict:
    if result.succeeded:
        return dict(
            status=Status.ACTIVE, last_tested_at=result.tested_at,
            last_successful_connection_at=result.tested_at, failure_count=0, failure_reason=None,
        )
    # F() so that concurrent tests of one source count every failure.
    return dict(
        status=Status.ERROR, last_tested_at=result.tested_at,
        last_failed_connection_at=result.tested_at, failure_count=F("failure_count") + 1,
        failure_reason=f"{result.error_code}: {result.message}",
    )


def _next_check(tested_at, interval: int) -> dict:
    """Any test restarts the schedule's clock and releases a round's claim."""
    if not interval:
        return dict(health_next_check_at=None, health_claim=None, health_claimed_until=None)
    return dict(
        health_next_check_at=tested_at + timedelta(seconds=interval), health_claim=None, health_claimed_until=None,
    )

