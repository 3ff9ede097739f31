"""Celery jobs: checks queued on create, scheduled refresh, broker outage, and a real worker."""
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from datasources.models import DataSource, Discovery
from datasources.tasks import refresh_due_schemas
from rivergen.celery import app as celery_app
from tests.support import created_source, redis_db, settled_within
from tests.support.connections import postgres_body, scratch_postgres_database

BASE_DIR = Path(settings.BASE_DIR)
REDIS_BROKER = f"redis://127.0.0.1:6379/{redis_db(__file__)}"  # this file's own Redis database


def other_body(workspace, **overrides):
    return {"workspace_id": workspace.pk, "name": "Legacy", "type": "other", "credentials": {}, **overrides}


@pytest.fixture
def checks_on_create(settings):
    settings.DATASOURCES_CHECK_NEW_SOURCES = True


@pytest.fixture
def broker(monkeypatch):
    """Send for real (not eagerly) to the broker URL the test chooses."""

    def use(url):
        monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
        monkeypatch.setitem(celery_app.conf, "broker_url", url)
        monkeypatch.setitem(celery_app.conf, "broker_connection_timeout", 2)
        _reset_pools()

    yield use
    _reset_pools()


def _reset_pools():
    celery_app._pool = None
    celery_app.__dict__.get("amqp") and setattr(celery_app.amqp, "_producer_pool", None)


@pytest.mark.django_db
def test_create_answers_inactive_then_tests_and_discovers_after_commit(
    api, workspace, checks_on_create, django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post("/api/v1/data-sources", other_body(workspace), format="json")
    assert response.status_code == 201 and response.json()["data"]["status"] == "inactive"
    assert callbacks  # the checks waited for the commit
    source = DataSource.objects.get(pk=response.json()["data"]["id"])
    assert source.status == "error" and source.failure_reason.startswith("UNSUPPORTED")
    discovery = Discovery.objects.get(data_source=source)
    assert discovery.status == "failed" and discovery.error_code == "UNSUPPORTED"


@pytest.mark.django_db
def test_no_checks_without_schema_auto_refresh(api, workspace, checks_on_create, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        source = created_source(api, other_body(workspace, schema_auto_refresh=False))
    assert not callbacks
    source.refresh_from_db()
    assert source.last_tested_at is None and not Discovery.objects.exists()


@pytest.mark.django_db
def test_refresh_queues_only_sources_that_are_due(api, workspace, django_capture_on_commit_callbacks):
    never = created_source(api, other_body(workspace, name="never discovered"))
    stale = created_source(api, other_body(workspace, name="stale", schema_refresh_interval=60))
    fresh = created_source(api, other_body(workspace, name="fresh", schema_refresh_interval=3600))
    busy = created_source(api, other_body(workspace, name="busy"))
    created_source(api, other_body(workspace, name="manual", schema_auto_refresh=False))
    old = Discovery.objects.create(data_source=stale, status="succeeded")
    Discovery.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(seconds=120))
    Discovery.objects.create(data_source=fresh, status="failed")
    Discovery.objects.create(data_source=busy, status="running")
    with django_capture_on_commit_callbacks(execute=True):
        refresh_due_schemas()
    queued = set(Discovery.objects.exclude(pk=old.pk).filter(finished_at__isnull=False)
                 .values_list("data_source_id", flat=True))
    assert queued == {never.pk, stale.pk}


@pytest.mark.django_db
def test_broker_outage_fails_the_discovery_not_the_request(api, workspace, broker, django_capture_on_commit_callbacks):
    broker("sqla+sqlite:////nonexistent-dir-c3/broker.sqlite3")
    source = created_source(api, other_body(workspace, schema_auto_refresh=False))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/data-sources/{source.pk}/discover-schema", format="json")
    assert response.status_code == 202
    discovery = Discovery.objects.get(pk=response.json()["data"]["discovery_id"])
    assert discovery.status == "failed" and discovery.error_code == "QUEUE_UNAVAILABLE"


# --- a real worker process -------------------------------------------------------------------

def database_url() -> str:
    """The test database as a URL the worker process can open (committed rows only)."""
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    return f"postgres://{config['USER']}@{config['HOST'] or '127.0.0.1'}:{config['PORT'] or 5432}/{config['NAME']}"


def start_worker(broker_url, log_path, concurrency=None):
    """A worker on the test database: ``--pool solo``, or prefork processes as `make run` starts it."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "rivergen.test_settings",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker_url,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "RIVERGEN_TEST_NETWORK_POLICY": settings.DATASOURCES_NETWORK_POLICY,  # "open": the servers are on loopback
    }
    command = [
        sys.executable, "-m", "celery", "-A", "rivergen", "worker", "--loglevel", "INFO",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        *(["--concurrency", str(concurrency)] if concurrency else ["--pool", "solo"]),
    ]
    log = open(log_path, "w")
    return subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_for_finish(discovery_id, seconds=58) -> Discovery:
    """The discovery once the worker has finished it, or as it stands after ``seconds`` (plus the headroom)."""
    settled_within(seconds, lambda: Discovery.objects.get(pk=discovery_id).status not in ("succeeded", "failed"))
    return Discovery.objects.get(pk=discovery_id)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_a_real_worker_runs_a_discovery(kind, api, workspace, broker, tmp_path, postgres, request):
    if kind == "redis":
        request.getfixturevalue("redis_server")  # this file's own database, emptied
        url = REDIS_BROKER
    else:
        url = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    broker(url)
    worker = start_worker(url, tmp_path / "worker.log")
    try:
        with scratch_postgres_database(["CREATE TABLE t (id int PRIMARY KEY, name text)"]) as name:
            source = created_source(api, postgres_body(workspace, database_name=name))
            response = api.post(f"/api/v1/data-sources/{source.pk}/discover-schema", format="json")
            assert response.status_code == 202
            discovery = wait_for_finish(response.json()["data"]["discovery_id"])
    finally:
        worker.terminate()
        worker.wait(15)
    log = (tmp_path / "worker.log").read_text()
    assert discovery.status == "succeeded", (discovery.error_code, discovery.error_message, log[-3000:])
    assert (discovery.table_count, discovery.column_count) == (1, 2)
    assert "datasources.tasks.discover_schema" in log and "succeeded" in log
