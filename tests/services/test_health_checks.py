"""Scheduled checks: claims keep two rounds off one source, expired claims come back, rounds record."""
import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from datasources.models import DataSource, HealthCheck, WebhookDelivery
from datasources.services.health_checks import (
    health_checks_claim,
    health_checks_schedule,
    health_round_run,
)
from datasources.services.webhooks import webhook_create

pytestmark = pytest.mark.django_db


def make_source(type_name, *, organization, name, **fields) -> DataSource:
    now = timezone.now()
    fields.setdefault("health_check_interval", 60)
    return DataSource.objects.create(type=type_name, organization=organization, name=name, credentials={},
                                     created_at=now, updated_at=now, **fields)


def due_sources(org, count, **fields):
    """Sources of type "other" (every test fails UNSUPPORTED at once), all due now."""
    past = timezone.now() - timedelta(seconds=1)
    sources = []
    for number in range(count):
        source = make_source("other", organization=org, name=f"s{number}", connection_timeout=2,
                             health_check_interval=60, health_next_check_at=past, **fields)
        sources.append(source)
    return sources


def test_two_claims_never_share_a_source(org):
    due_sources(org, 10)
    first = {s.pk for s in health_checks_claim(limit=6)}
    second = {s.pk for s in health_checks_claim(limit=6)}
    assert len(first) == 6 and len(second) == 4 and not first & second
    assert health_checks_claim(limit=6) == []


def test_a_dead_workers_claim_expires_after_the_sources_timeout(org):
    (source,) = due_sources(org, 1)
    claimed = health_checks_claim(limit=5)
    assert [s.pk for s in claimed] == [source.pk]
    source.refresh_from_db()
    # The claim lasts the source's own connection_timeout plus a margin, far less than its interval.
    assert source.health_claimed_until - timezone.now() < timedelta(seconds=source.connection_timeout + 15)
    later = source.health_claimed_until + timedelta(seconds=1)
    assert [s.pk for s in health_checks_claim(limit=5, now=later)] == [source.pk]


def test_sources_not_due_or_switched_off_are_not_claimed(org):
    make_source("other", organization=org, name="off", health_check_interval=0)
    make_source("other", organization=org, name="later", health_check_interval=60,
                health_next_check_at=timezone.now() + timedelta(seconds=30))
    never = make_source("other", organization=org, name="never tested", health_check_interval=60)
    DataSource.objects.filter(pk=never.pk).update(health_next_check_at=None)  # e.g. created before scheduling
    assert [s.pk for s in health_checks_claim(limit=10)] == [never.pk]


def test_a_round_checks_every_due_source_once_and_schedules_the_next(org):
    sources = due_sources(org, 12)
    report = health_round_run(concurrency=5)
    assert (report.checked, report.failed) == (12, 12)
    checks = HealthCheck.objects.all()
    assert sorted(c.data_source_id for c in checks) == sorted(s.pk for s in sources)
    assert {c.trigger for c in checks} == {"scheduled"}
    for source in DataSource.objects.all():
        check = checks.get(data_source=source)
        assert source.status == "error" and source.health_claim is None
        assert source.health_next_check_at == check.checked_at + timedelta(seconds=60)
    assert health_round_run(concurrency=5).checked == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_rounds_never_check_a_source_twice(org):
    sources = due_sources(org, 40)
    reports = []

    def one_round():
        try:
            reports.append(health_round_run(concurrency=4))
        finally:
            connections.close_all()  # this thread's own connection, so the test database can be dropped

    rounds = [threading.Thread(target=one_round) for _ in range(3)]
    for thread in rounds:
        thread.start()
    for thread in rounds:
        thread.join(60)
    assert sum(r.checked for r in reports) == 40
    per_source = [HealthCheck.objects.filter(data_source=s).count() for s in sources]
    assert per_source == [1] * 40


def test_a_round_publishes_only_the_first_failure(org, alice, django_capture_on_commit_callbacks, settings):
    settings.WEBHOOK_RETRY_DELAYS = []
    webhook_create(actor=alice, data={"url": "http://10.255.255.1:9/hook", "events": ["data_source.health_changed"]})
    (source,) = due_sources(org, 1)
    health_round_run(concurrency=2)
    DataSource.objects.filter(pk=source.pk).update(health_next_check_at=timezone.now() - timedelta(seconds=1))
    health_round_run(concurrency=2)
    assert HealthCheck.objects.count() == 2
    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.payload["data"]["from"] == "inactive" and delivery.payload["data"]["to"] == "error"
    assert delivery.payload["data"]["error_code"] == "UNSUPPORTED"


def test_schedule_queues_enough_rounds_for_what_is_due(org, settings, django_capture_on_commit_callbacks):
    settings.HEALTH_CHECK_CONCURRENCY = 5
    due_sources(org, 12)
    with django_capture_on_commit_callbacks() as queued:
        assert health_checks_schedule() == 3
    assert len(queued) == 3


def test_the_check_after_a_create_is_recorded_as_created(org):
    from datasources.tasks import check_new_source

    source = make_source("other", organization=org, name="new", schema_auto_refresh=False)
    check_new_source(source.pk)
    assert HealthCheck.objects.get(data_source=source).trigger == "created"


@pytest.mark.loopback  # its webhook URL is on loopback, which policy private refuses
def test_results_recorded_together_match_results_recorded_one_by_one(org, alice, settings):
    from datasources.services.connections import TestResult
    from datasources.services.health_record import health_check_record, health_checks_record_many

    settings.WEBHOOK_RETRY_DELAYS = []
    webhook_create(actor=alice, data={"url": "http://10.255.255.1:9/hook", "events": ["data_source.health_changed"]})
    now = timezone.now()
    ok = TestResult("succeeded", None, "Connection succeeded.", 12, "16", now)
    down = TestResult("failed", "TIMEOUT", "No answer.", 2000, None, now)
    single = [make_source("other", organization=org, name=f"one {n}") for n in range(3)]
    together = [make_source("other", organization=org, name=f"many {n}") for n in range(3)]
    gone = make_source("other", organization=org, name="gone")
    for source, result in zip(single, (ok, down, down)):
        health_check_record(source=source, result=result, trigger="scheduled")
    gone_id = gone.pk
    gone.delete()
    gone.pk = gone_id  # a source deleted while it was being tested
    assert health_checks_record_many(results=[*zip(together, (ok, down, down)), (gone, ok)]) == 3

    def state(sources):
        rows = DataSource.objects.filter(pk__in=[s.pk for s in sources]).order_by("name")
        return [(r.status, r.failure_count, r.failure_reason, r.health_next_check_at, r.last_tested_at) for r in rows]

    assert state(single) == state(together)
    kept = HealthCheck.objects.filter(data_source__in=together).values_list("status", "error_code", "trigger")
    assert sorted(kept) == sorted(HealthCheck.objects.filter(data_source__in=single)
                                  .values_list("status", "error_code", "trigger"))
    # inactive -> error publishes; inactive -> active does not: two deliveries for each way of recording
    names = [d.payload["data"]["data_source_name"] for d in WebhookDelivery.objects.order_by("id")]
    assert sorted(names) == ["many 1", "many 2", "one 1", "one 2"]


def test_a_round_records_the_certificate_as_a_single_test_does(org, settings):
    """The batched path keeps the server certificate and marks its expiry announced, like the single one."""
    from datasources.security.tls import UTC_FORMAT
    from datasources.services.connections import TestResult
    from datasources.services.health_record import health_check_record, health_checks_record_many

    settings.TLS_CERTIFICATE_WARNING_DAYS = 21
    not_after = (timezone.now() + timedelta(days=5)).strftime(UTC_FORMAT)
    certificate = {"subject": "CN=db", "issuer": "CN=ca", "not_after": not_after, "sha256": "ab" * 32}
    result = TestResult("succeeded", None, "Connection succeeded.", 3, "16", timezone.now(),
                        tls={"encrypted": True, "verified": True, "protocol": "TLSv1.3", "server_certificate": certificate})
    single, batched = (make_source("other", organization=org, name=name) for name in ("single", "batched"))
    health_check_record(source=single, result=result, trigger="scheduled")
    health_checks_record_many(results=[(batched, result)])
    for source in (single, batched):
        source.refresh_from_db()
        assert source.tls_server_certificate == certificate
        assert source.tls_expiry_announced == certificate["sha256"]
        checks = HealthCheck.objects.filter(data_source=source)
        assert {check.certificate_not_after.strftime(UTC_FORMAT) for check in checks} == {not_after}
