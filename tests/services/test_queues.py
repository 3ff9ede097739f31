"""Queues: every task is routed to its queue, and a backlog in one never holds up another.

The worker here is started as `make run` starts it (one worker consuming every queue, two
processes): it takes from the queues in turn, so a connection test queued behind a backlog of
slow discoveries waits for a free process, not for the backlog.
"""
import socket
import time

import pytest
from django.db import transaction
from django.utils import timezone

from datasources.models import DataSource, Discovery, HealthCheck
from datasources.services.discovery import discovery_queue
from datasources.services.jobs import enqueue_after_commit
from rivergen.celery import QUEUES, app as celery_app
from tests.services.test_tasks import _reset_pools, start_worker

BACKLOG = 16


def test_every_task_has_a_declared_queue():
    declared = {queue.name for queue in celery_app.conf.task_queues}
    assert declared == set(QUEUES) == {"checks", "discovery", "webhooks", "default"}
    router = celery_app.amqp.router
    queue_of = {name: router.route({}, name)["queue"].name for name in celery_app.tasks if name.startswith("datasources.")}
    assert queue_of["datasources.tasks.discover_schema"] == "discovery"
    assert queue_of["datasources.tasks.deliver_webhook"] == "webhooks"
    assert {queue_of[name] for name in ("datasources.tasks.test_connection", "datasources.tasks.run_health_round",
                                        "datasources.tasks.check_new_source")} == {"checks"}
    assert queue_of["datasources.tasks.schedule_health_checks"] == "default"
    assert set(queue_of.values()) <= set(QUEUES)


def test_discovery_and_webhook_jobs_are_acknowledged_late_and_given_back_when_their_worker_dies():
    for name in ("datasources.tasks.discover_schema", "datasources.tasks.deliver_webhook"):
        task = celery_app.tasks[name]
        assert task.acks_late and task.reject_on_worker_lost, name


@pytest.fixture
def listener():
    """Accepts connections and never answers: each discovery of a source pointing here takes its timeout."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    yield sock.getsockname()[1]
    sock.close()


def saved(org, name, **fields) -> DataSource:
    now = timezone.now()
    return DataSource.objects.create(organization=org, name=name, name_key=name, health_check_interval=0,
                                     created_at=now, updated_at=now, **fields)


@pytest.mark.django_db(transaction=True)
def test_a_discovery_backlog_does_not_hold_up_a_check(org, listener, tmp_path, monkeypatch):
    url = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setitem(celery_app.conf, "broker_url", url)
    _reset_pools()
    slow = [
        saved(org, f"slow {n}", type="postgresql", host="127.0.0.1", port=listener, database_name="x",
              connection_timeout=1, credentials={"username": "u", "password": "p"})
        for n in range(BACKLOG)
    ]
    checked = saved(org, "checked", type="other", credentials={})
    with transaction.atomic():  # the whole backlog is queued first, then the check
        for source in slow:
            discovery_queue(source=source)
        enqueue_after_commit("test_connection", checked.pk)
    worker = start_worker(url, tmp_path / "worker.log", concurrency=2)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not HealthCheck.objects.filter(data_source=checked).exists():
            time.sleep(0.2)
        check = HealthCheck.objects.filter(data_source=checked).first()
        assert check is not None, (tmp_path / "worker.log").read_text()[-3000:]
        finished_before = Discovery.objects.filter(finished_at__lt=check.checked_at).count()
    finally:
        worker.terminate()
        worker.wait(30)
        _reset_pools()
    # One queue in order would have run all 16 discoveries (a second each) first.
    assert finished_before <= 4, finished_before
