"""The log is append-only: on PostgreSQL a trigger refuses UPDATE and DELETE, except the retention
prune, which deletes only what is older than AUDIT_RETENTION_DAYS."""
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.audit_log import audit_prune, record
from accounts.models import AuditEvent
from accounts.tasks import prune_audit_events

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")


def _event(days_ago=0):
    """An event that occurred ``days_ago`` (inserted with that time: nothing can move it later)."""
    with transaction.atomic():
        if not days_ago:
            return record("encryption_keys.rotated", organization_id=None)
        return AuditEvent.objects.create(action="encryption_keys.rotated", actor_type="system", via="cli",
                                         occurred_at=timezone.now() - timedelta(days=days_ago))


@on_postgresql
@pytest.mark.parametrize("statement", [
    "UPDATE accounts_auditevent SET action = 'data_source.created'",
    "UPDATE accounts_auditevent SET changes = '{}'",
    "DELETE FROM accounts_auditevent",
])
def test_the_database_refuses_to_change_or_delete_events(statement):
    _event()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert AuditEvent.objects.count() == 1


@on_postgresql
def test_the_orm_cannot_either():
    event = _event()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(actor_label="someone else")
    with pytest.raises(DatabaseError), transaction.atomic():
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).actor_label == "system"


def test_the_prune_deletes_only_events_past_the_retention(settings):
    settings.AUDIT_RETENTION_DAYS = 30
    recent = _event()
    old = _event(days_ago=31)
    kept = _event(days_ago=29)
    assert audit_prune() == 1
    assert set(AuditEvent.objects.values_list("pk", flat=True)) == {recent.pk, kept.pk}
    assert old.pk not in AuditEvent.objects.values_list("pk", flat=True)


def test_the_periodic_task_prunes(settings):
    settings.AUDIT_RETENTION_DAYS = 1
    _event(days_ago=2)
    prune_audit_events.delay()
    assert not AuditEvent.objects.exists()
    assert "prune-audit-events" in settings.CELERY_BEAT_SCHEDULE


@pytest.mark.django_db(transaction=True)
def test_record_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record("encryption_keys.rotated", organization_id=None)
    assert not AuditEvent.objects.exists()
