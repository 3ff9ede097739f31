"""Connection tests in flight are bounded per user, per organization (cluster-wide) and per process: 429 past a bound."""
from datetime import timedelta

import pytest
from django.utils import timezone

from datasources.models import ConnectionTestSlot, DataSource
from datasources.services.limits import connection_test_slot
from tests.support import client_for, post_test
from tests.support.servers import free_port

pytestmark = pytest.mark.loopback  # its sources point at refused ports on 127.0.0.1

URL = "/api/v1/data-sources/test-connection"


@pytest.fixture
def body(spec_body):
    return {**spec_body, "host": "127.0.0.1", "port": free_port(), "connection_timeout": 2}


@pytest.fixture
def target(org):
    """What a slot is taken for: a source of Acme (unsaved) with a 2 s timeout."""
    return DataSource(organization=org, connection_timeout=2)


@pytest.fixture(autouse=True)
def _bounds(settings):
    settings.DATASOURCES_TESTS_PER_USER = 2
    settings.DATASOURCES_TESTS_PER_ORGANIZATION = 3
    settings.DATASOURCES_TESTS_PER_PROCESS = 5


def test_a_user_past_their_bound_gets_429_with_retry_after(alice, bob, body, target):
    with connection_test_slot(alice.pk, target), connection_test_slot(alice.pk, target):
        response = client_for(alice).post(URL, body, format="json")
        assert response.status_code == 429, response.content
        assert response["Retry-After"]
        assert response.json()["error"]["code"] == "RATE_LIMITED"
        assert client_for(bob).post(URL, body, format="json").status_code == 200  # others are not held up
    assert client_for(alice).post(URL, body, format="json").status_code == 200  # slots are given back
    assert not ConnectionTestSlot.objects.exists()


def test_the_organization_bound_holds_for_all_its_members(alice, bob, charlie, oscar, body, source, target):
    with connection_test_slot(alice.pk, target), connection_test_slot(bob.pk, target), \
            connection_test_slot(charlie.pk, target):
        assert client_for(bob).post(URL, body, format="json").status_code == 429
        saved = post_test(client_for(alice), source.pk)
        assert saved.status_code == 429
        outsider = {**body, "workspace_id": None}
        assert client_for(oscar).post(URL, outsider, format="json").status_code == 200  # another organization


def test_slots_held_by_another_process_count(alice, body, org):
    """A slot is a row: one taken by another web process or worker (here: written directly) counts."""
    later = timezone.now() + timedelta(seconds=30)
    ConnectionTestSlot.objects.bulk_create([ConnectionTestSlot(user=alice, organization=org, expires_at=later)] * 2)
    assert client_for(alice).post(URL, body, format="json").status_code == 429


def test_a_slot_left_by_a_killed_process_expires(alice, body, org):
    earlier = timezone.now() - timedelta(seconds=1)
    ConnectionTestSlot.objects.bulk_create([ConnectionTestSlot(user=alice, organization=org, expires_at=earlier)] * 2)
    assert client_for(alice).post(URL, body, format="json").status_code == 200


def test_the_process_bound_holds_for_everyone(settings, alice, bob, body, target):
    settings.DATASOURCES_TESTS_PER_PROCESS = 1
    with connection_test_slot(alice.pk, target):
        assert client_for(bob).post(URL, body, format="json").status_code == 429


def test_a_failing_test_gives_its_slot_back(alice, body):
    for _ in range(3):  # more than the bound of 2, one after the other
        response = client_for(alice).post(URL, body, format="json")
        assert response.status_code == 200
        assert response.json()["data"]["status"] == "failed"
    assert not ConnectionTestSlot.objects.exists()
