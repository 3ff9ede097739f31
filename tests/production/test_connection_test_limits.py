"""Connection tests in flight are bounded per user and per process: past a bound, 429 at once."""
import pytest

from datasources.services.limits import connection_test_slot
from tests.support import client_for, post_test
from tests.support.servers import free_port

URL = "/api/v1/data-sources/test-connection"


@pytest.fixture
def body(spec_body):
    return {**spec_body, "host": "127.0.0.1", "port": free_port(), "connection_timeout": 2}


@pytest.fixture(autouse=True)
def _bounds(settings):
    settings.DATASOURCES_TESTS_PER_USER = 2
    settings.DATASOURCES_TESTS_PER_PROCESS = 3


def test_a_user_past_their_bound_gets_429_with_retry_after(alice, bob, body):
    with connection_test_slot(alice.pk), connection_test_slot(alice.pk):
        response = client_for(alice).post(URL, body, format="json")
        assert response.status_code == 429, response.content
        assert response["Retry-After"]
        assert response.json()["error"]["code"] == "RATE_LIMITED"
        assert client_for(bob).post(URL, body, format="json").status_code == 200  # others are not held up
    assert client_for(alice).post(URL, body, format="json").status_code == 200  # slots are given back


def test_the_process_bound_holds_for_everyone(alice, bob, charlie, body, source):
    with connection_test_slot(alice.pk), connection_test_slot(bob.pk), connection_test_slot(charlie.pk):
        assert client_for(bob).post(URL, body, format="json").status_code == 429
        saved = post_test(client_for(alice), source.pk)
        assert saved.status_code == 429


def test_a_failing_test_gives_its_slot_back(alice, body):
    for _ in range(3):  # more than the bound of 2, one after the other
        response = client_for(alice).post(URL, body, format="json")
        assert response.status_code == 200
        assert response.json()["data"]["status"] == "failed"
