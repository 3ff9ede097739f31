"""/healthz (no I/O) and /readyz (database and broker), through Django's test client."""
import pytest

from rivergen.celery import app
from tests.support.servers import free_port


def test_healthz_answers_without_touching_the_database(client):
    response = client.get("/healthz")  # no db fixture: a query here would fail the test
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_is_200_when_database_and_broker_answer(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.fixture
def dead_broker(monkeypatch):
    monkeypatch.setattr(app.conf, "broker_url", f"redis://127.0.0.1:{free_port()}/0")


def test_readyz_names_the_broker_when_it_is_down(client, db, dead_broker, settings):
    settings.SERVICE_UNAVAILABLE_RETRY_AFTER = 9
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"] == "9"
    body = response.json()
    assert body["failed"] == ["broker"]
    assert body["checks"] == {"database": "ok", "broker": "unavailable"}


def test_probes_take_only_get(client):
    assert client.post("/healthz").status_code == 405
