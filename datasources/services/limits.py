"""How many connection tests may run at once: per user and per organization across the cluster, and per process.

A test may wait up to its connection_timeout on a server that never answers, holding a web
thread. Bounding the tests in flight keeps a few editors from tying up every worker thread;
past a bound the request is refused at once with ``TooBusy`` (429 with Retry-After).

The per-user and per-organization bounds hold across every web process and worker: each test
in flight is a ``ConnectionTestSlot`` row, taken in a transaction that locks the organization's and the user's rows, so
two processes never both take the last slot (SQLite's IMMEDIATE transactions serialize the same
way). A slot expires after the test's deadline, so a process killed mid-test frees its slots.
The per-process bound protects this process's threads and stays in memory.
"""
import threading
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.models import Organization
from datasources.models import ConnectionTestSlot
from datasources.services.deadline import GRACE_SECONDS
from rivergen.errors import TooBusy

SLOT_MARGIN_SECONDS = 10
_lock = threading.Lock()
_in_process = 0


@contextmanager
def connection_test_slot(user_id, source):
    """Hold one of DATASOURCES_TESTS_PER_USER / _PER_ORGANIZATION / _PER_PROCESS slots while ``source`` is tested."""
    _take_process_slot()
    try:
        slot = _take_cluster_slot(user_id, source.organization_id, source.connection_timeout or 0)
        try:
            yield
        finally:
            ConnectionTestSlot.objects.filter(pk=slot).delete()
    finally:
        _release_process_slot()


def _take_cluster_slot(user_id, organization_id, timeout: float) -> int:
    per_user = settings.DATASOURCES_TESTS_PER_USER
    per_organization = settings.DATASOURCES_TESTS_PER_ORGANIZATION
    now = timezone.now()
    with transaction.atomic():
        # The organization's row lock, then the user's (always in that order: no deadlock), orders the
        # takers that share either; each count then sees every slot committed before it.
        list(Organization.objects.select_for_update().filter(pk=organization_id).values_list("pk"))
        list(get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk"))
        live = ConnectionTestSlot.objects.filter(expires_at__gt=now)
        if live.filter(user_id=user_id).count() >= per_user:
            raise TooBusy(f"At most {per_user} connection tests per user may run at once; try again shortly.")
        if live.filter(organization_id=organization_id).count() >= per_organization:
            raise TooBusy(f"At most {per_organization} connection tests per organization may run at once; "
                          "try again shortly.")
        ConnectionTestSlot.objects.filter(expires_at__lte=now, user_id=user_id).delete()
        expires = now + timedelta(seconds=timeout + GRACE_SECONDS + SLOT_MARGIN_SECONDS)
        return ConnectionTestSlot.objects.create(
            user_id=user_id, organization_id=organization_id, expires_at=expires
        ).pk


def _take_process_slot():
    global _in_process
    per_process = settings.DATASOURCES_TESTS_PER_PROCESS
    with _lock:
        if _in_process >= per_process:
            raise TooBusy("The server is running as many connection tests as it may; try again shortly.")
        _in_process += 1


def _release_process_slot():
    global _in_process
    with _lock:
        _in_process -= 1
