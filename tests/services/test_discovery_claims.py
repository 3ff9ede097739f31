"""Discovery jobs are delivered at least once: claims keep a redelivery from running or storing twice."""
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from datasources.connectors.base import DiscoveredColumn, DiscoveredTable
from datasources.models import DataSource, Discovery, SchemaTable
from datasources.services import discovery as discovery_service
from datasources.services.discovery import DiscoveryBusy, discoveries_queue_due, discovery_run
from tests.support import created_source

pytestmark = pytest.mark.django_db

TABLE = DiscoveredTable(schema="public", name="orders", columns=[
    DiscoveredColumn(name="id", data_type="integer", nullable=False, primary_key=True, position=1),
])


@pytest.fixture
def source(api, workspace):
    return created_source(api, {"workspace_id": workspace.pk, "name": "Legacy", "type": "other",
                                "schema_auto_refresh": False, "credentials": {}})


@pytest.fixture
def connector(monkeypatch):
    """The source's connector discovers one table; ``during`` runs inside its discover()."""

    class Connector:
        during = None

        def discover(self, source):
            if Connector.during:
                Connector.during()
            return [TABLE]

    monkeypatch.setattr(discovery_service, "connector_for", lambda type_name: Connector)
    return Connector


def running(source, *, claimed_for: float) -> Discovery:
    """A discovery some other run holds, its claim ending ``claimed_for`` seconds from now."""
    now = timezone.now()
    return Discovery.objects.create(data_source=source, status=Discovery.Status.RUNNING, started_at=now,
                                    claim=uuid.uuid4(), claimed_until=now + timedelta(seconds=claimed_for))


def test_a_redelivered_discovery_waits_while_its_first_run_holds_the_claim(source, connector):
    discovery = running(source, claimed_for=30)
    with pytest.raises(DiscoveryBusy) as busy:
        discovery_run(discovery.pk)
    assert 29 <= busy.value.retry_in <= 32
    discovery.refresh_from_db()
    assert discovery.status == "running" and not SchemaTable.objects.filter(data_source=source).exists()


def test_a_discovery_whose_worker_died_is_taken_over_once_the_claim_expires(source, connector):
    discovery = running(source, claimed_for=-1)
    finished = discovery_run(discovery.pk)
    assert finished.status == "succeeded" and finished.table_count == 1
    assert SchemaTable.objects.filter(data_source=source).count() == 1
    assert discovery_run(discovery.pk) is None  # a further redelivery finds it finished


def test_another_discovery_of_the_same_source_waits_for_the_running_one(source, connector):
    running(source, claimed_for=20)
    queued = Discovery.objects.create(data_source=source)
    with pytest.raises(DiscoveryBusy):
        discovery_run(queued.pk)
    assert Discovery.objects.get(pk=queued.pk).status == "queued"


@pytest.mark.django_db(transaction=True)  # the connector runs in a thread of its own, with its own connection
def test_a_run_that_lost_its_claim_stores_nothing(source, connector):
    discovery = Discovery.objects.create(data_source=source)
    taken_over = uuid.uuid4()
    # While this run is stuck in the connector, its claim expires and another run takes it.
    connector.during = lambda: Discovery.objects.filter(pk=discovery.pk).update(claim=taken_over)
    assert discovery_run(discovery.pk) is None
    discovery.refresh_from_db()
    assert (discovery.status, discovery.claim) == ("running", taken_over)
    assert not SchemaTable.objects.filter(data_source=source).exists()


def test_a_second_beat_with_a_stale_view_queues_no_second_refresh(source, monkeypatch):
    DataSource.objects.filter(pk=source.pk).update(schema_auto_refresh=True)
    assert discoveries_queue_due() == 1  # the first beat
    real = discovery_service.due_for_refresh
    # The second beat read "due" before the first committed; its re-check under the row lock sees the discovery.
    monkeypatch.setattr(discovery_service, "due_for_refresh",
                        lambda now=None, among=None: [source.pk] if among is None else real(now, among=among))
    assert discoveries_queue_due() == 0
    assert Discovery.objects.filter(data_source=source).count() == 1
