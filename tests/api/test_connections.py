"""POST /api/v1/data-sources/{id}/test-connection and POST /api/v1/data-sources/test-connection."""
import threading

import pytest

from datasources.connectors import CONNECTORS
from datasources.connectors.base import Connector, ConnectorError
from datasources.models import DataSource
from datasources.services.deadline import GRACE_SECONDS
from tests.support import api_create, client_for, finishes_within, post_test
from tests.support.connections import PG, postgres_body
from tests.support.servers import free_port

pytestmark = pytest.mark.django_db
RESULT_KEYS = ["status", "error_code", "message", "latency_ms", "server_version", "tested_at", "tls", "steps"]
CANARY = "canary-Secret-7f3e9"


def real_postgres_version() -> str:
    import psycopg

    with psycopg.connect(dbname="postgres", **PG) as conn:
        return conn.execute("SHOW server_version").fetchone()[0].split()[0]


@pytest.fixture
def other_source(api, workspace):
    """A source of type "other", which has no connector and therefore always fails UNSUPPORTED."""
    return api_create(api, {"workspace_id": workspace.pk, "name": "Legacy thing", "type": "other",
                        "schema_auto_refresh": False, "connection_timeout": 1, "credentials": {}})


class StuckConnector(Connector):
    """Stands in for a driver that hangs forever (until the test releases it)."""

    type_name, label = "other", "Other"
    release = threading.Event()

    def test(self, source):
        self.release.wait(30)


class ChattyConnector(Connector):
    """Stands in for a connector that forgets to scrub a driver message quoting the password."""

    type_name, label = "other", "Other"

    def test(self, source):
        raise ConnectorError("AUTH_FAILED", f"password {source.credentials['password']} rejected")


class BrokenConnector(Connector):
    type_name, label = "other", "Other"

    def test(self, source):
        raise RuntimeError(f"driver blew up with {source.credentials.get('password')}")


def test_unsupported_type_fails_and_counts_failures(api, other_source):
    first = post_test(api, other_source["id"])
    assert first.status_code == 200
    body = first.json()
    assert body["success"] is True and body["message"] == "Connection test failed"
    assert list(body["data"]) == RESULT_KEYS
    assert body["data"]["status"] == "failed" and body["data"]["error_code"] == "UNSUPPORTED"
    assert body["data"]["tested_at"].endswith("Z")
    post_test(api, other_source["id"])
    source = DataSource.objects.get(pk=other_source["id"])
    assert source.status == "error" and source.failure_count == 2
    assert source.failure_reason.startswith("UNSUPPORTED: ")
    assert source.last_failed_connection_at == source.last_tested_at
    assert source.last_successful_connection_at is None


def test_editor_may_test(bob, other_source):
    assert post_test(client_for(bob), other_source["id"]).status_code == 200


def test_unknown_source_is_404(api):
    assert post_test(api, 999999).status_code == 404


def test_stuck_driver_is_cut_off_after_the_limit_and_its_grace(api, other_source, monkeypatch):
    monkeypatch.setitem(CONNECTORS, "other", StuckConnector)
    try:
        with finishes_within(1 + GRACE_SECONDS) as clock:  # other_source has connection_timeout 1
            response = post_test(api, other_source["id"])
    finally:
        StuckConnector.release.set()
    assert response.json()["data"]["error_code"] == "TIMEOUT"
    assert clock.elapsed >= 1
    assert DataSource.objects.get(pk=other_source["id"]).status == "error"


def test_secret_quoted_by_a_connector_is_masked(api, workspace, monkeypatch):
    monkeypatch.setitem(CONNECTORS, "other", ChattyConnector)
    source = api_create(api, {"workspace_id": workspace.pk, "name": "Chatty", "type": "other",
                          "schema_auto_refresh": False, "credentials": {"password": CANARY}})
    response = post_test(api, source["id"])
    assert response.json()["data"]["message"] == "password *** rejected"
    assert CANARY not in response.content.decode()
    assert CANARY not in DataSource.objects.get(pk=source["id"]).failure_reason


def test_unexpected_connector_crash_is_a_failure_not_a_500(api, workspace, monkeypatch, caplog):
    monkeypatch.setitem(CONNECTORS, "other", BrokenConnector)
    source = api_create(api, {"workspace_id": workspace.pk, "name": "Broken", "type": "other",
                          "schema_auto_refresh": False, "credentials": {"password": CANARY}})
    response = post_test(api, source["id"])
    assert response.status_code == 200
    assert response.json()["data"]["error_code"] == "CONNECTOR_FAILED"
    assert CANARY not in response.content.decode() and CANARY not in caplog.text


# --- the unsaved test: a create body, validated like a create, nothing stored ---------------

def post_unsaved_test(client, body):
    return client.post("/api/v1/data-sources/test-connection", body, format="json")


def test_unsaved_body_is_validated_like_a_create(api, workspace):
    response = post_unsaved_test(api, {"workspace_id": workspace.pk, "type": "postgresql", "credentials": {}})
    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert set(details) == {"host", "port", "database_name"}
    response = post_unsaved_test(api, {"type": "postgresql", "port": "5432", "credentials": {"pasword": "x"}})
    assert response.status_code == 400 and "port" in response.json()["error"]["details"]


def test_unsaved_unknown_credential_key_is_400(api, workspace):
    body = {"workspace_id": workspace.pk, "type": "other", "credentials": {"pasword": "typo"}}
    response = post_unsaved_test(api, body)
    assert response.status_code == 400 and "credentials" in response.json()["error"]["details"]


def test_unsaved_needs_no_name_and_stores_nothing(api, workspace):
    response = post_unsaved_test(api, {"workspace_id": workspace.pk, "type": "other", "credentials": {}})
    assert response.status_code == 200
    assert response.json()["data"]["error_code"] == "UNSUPPORTED"
    assert DataSource.objects.count() == 0


def test_unsaved_test_in_another_organizations_workspace_is_400(oscar, workspace):
    body = {"workspace_id": workspace.pk, "type": "other", "credentials": {}}
    response = post_unsaved_test(client_for(oscar), body)
    assert response.status_code == 400 and "workspace_id" in response.json()["error"]["details"]


def test_unsaved_body_must_be_an_object(api):
    assert post_unsaved_test(api, [1, 2]).status_code == 400


# --- against the machine's PostgreSQL -------------------------------------------------------

@pytest.mark.services
def test_reachable_postgres_succeeds_and_turns_active(api, workspace, postgres):
    source = api_create(api, postgres_body(workspace, credentials={"username": "postgres", "password": CANARY}))
    with finishes_within(5) as clock:
        response = post_test(api, source["id"])
    data = response.json()["data"]
    assert data["status"] == "succeeded", data
    assert data["error_code"] is None
    assert data["server_version"].split()[0] == real_postgres_version()
    # The latency is the connector's time, measured inside the request: never more than the request took.
    assert isinstance(data["latency_ms"], int) and 0 <= data["latency_ms"] <= clock.elapsed * 1000
    assert CANARY not in response.content.decode()
    stored = DataSource.objects.get(pk=source["id"])
    assert stored.status == "active" and stored.failure_count == 0 and stored.failure_reason is None
    assert stored.last_successful_connection_at == stored.last_tested_at


@pytest.mark.services
def test_unknown_role_is_auth_failed_and_counts_up(api, workspace, postgres):
    body = postgres_body(workspace, credentials={"username": "no_such_role_c3", "password": CANARY})
    source = api_create(api, body)
    for expected in (1, 2):
        response = post_test(api, source["id"])
        assert response.json()["data"]["error_code"] == "AUTH_FAILED", response.json()
        assert DataSource.objects.get(pk=source["id"]).failure_count == expected
    assert CANARY not in response.content.decode()
    assert DataSource.objects.get(pk=source["id"]).status == "error"


@pytest.mark.services
def test_success_resets_the_failure_count(api, workspace, postgres):
    source = api_create(api, postgres_body(workspace, credentials={"username": "no_such_role_c3"}))
    post_test(api, source["id"])
    patch = {"credentials": {"username": "postgres", "password": "x"}}
    DataSource.objects.filter(pk=source["id"]).update(credentials=patch["credentials"])
    data = post_test(api, source["id"]).json()["data"]
    assert data["status"] == "succeeded", data
    stored = DataSource.objects.get(pk=source["id"])
    assert (stored.status, stored.failure_count, stored.failure_reason) == ("active", 0, None)
    assert stored.last_failed_connection_at < stored.last_successful_connection_at


@pytest.mark.loopback
def test_closed_port_is_host_unreachable(api, workspace):
    source = api_create(api, postgres_body(workspace, port=free_port()))
    data = post_test(api, source["id"]).json()["data"]
    assert data["error_code"] == "HOST_UNREACHABLE", data
    assert DataSource.objects.get(pk=source["id"]).status == "error"


@pytest.mark.loopback
def test_silent_port_times_out_within_the_deadline(api, workspace, silent):
    source = api_create(api, postgres_body(workspace, port=silent.port, connection_timeout=1))
    with finishes_within(1 + GRACE_SECONDS):
        data = post_test(api, source["id"]).json()["data"]
    assert data["error_code"] == "TIMEOUT", data
    assert DataSource.objects.get(pk=source["id"]).failure_count == 1


@pytest.mark.services
def test_unsaved_postgres_body_tests_for_real_and_stores_nothing(api, workspace, postgres):
    body = postgres_body(workspace)
    del body["name"]
    data = post_unsaved_test(api, body).json()["data"]
    assert data["status"] == "succeeded", data
    assert DataSource.objects.count() == 0
    bad = post_unsaved_test(api, {**body, "port": free_port()}).json()["data"]
    assert bad["status"] == "failed" and bad["error_code"] == "HOST_UNREACHABLE"


# --- against a PostgreSQL that checks passwords (SCRAM) ---------------------------------------

@pytest.mark.services
def test_wrong_password_is_auth_failed_and_the_right_one_turns_active(api, workspace, password_postgres):
    server = password_postgres
    body = postgres_body(workspace, port=server.port, credentials={"username": server.user, "password": CANARY})
    source = api_create(api, body)
    for expected in (1, 2):
        data = post_test(api, source["id"]).json()["data"]
        assert data["error_code"] == "AUTH_FAILED", data
        assert CANARY not in data["message"]
        stored = DataSource.objects.get(pk=source["id"])
        assert (stored.status, stored.failure_count) == ("error", expected)
        assert CANARY not in stored.failure_reason
    response = api.patch(f"/api/v1/data-sources/{source['id']}",
                         {"credentials": {"password": server.password}}, format="json")
    assert response.status_code == 200, response.json()
    data = post_test(api, source["id"]).json()["data"]
    assert data["status"] == "succeeded", data
    stored = DataSource.objects.get(pk=source["id"])
    assert (stored.status, stored.failure_count) == ("active", 0)
