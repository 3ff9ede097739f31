"""The steps and TLS summary of POST /api/v1/data-sources/test-connection, against real servers."""
import pytest

from tests.support.certificates import shared_authority
from tests.support.servers import free_port

pytestmark = pytest.mark.services


def _tested(api, **fields):
    body = {"name": "steps", "type": "postgresql", "database_name": "postgres", "connection_timeout": 5, **fields}
    response = api.post("/api/v1/data-sources/test-connection", body, format="json")
    assert response.status_code == 200, response.json()
    return response.json()["data"]


def statuses(result):
    return [(step["name"], step["status"], step["error_code"]) for step in result["steps"]]


def test_a_refused_port_fails_at_connect(api, postgres):
    result = _tested(api, host="127.0.0.1", port=free_port(), credentials={"username": "postgres"},
                    tls={"mode": "disable"})
    assert statuses(result) == [
        ("resolve", "passed", None), ("connect", "failed", "HOST_UNREACHABLE"),
        ("authenticate", "skipped", None), ("read_catalogue", "skipped", None),
    ]
    assert result["tls"] is None


def test_a_wrong_password_fails_at_authenticate(api, password_postgres):
    result = _tested(api, host="127.0.0.1", port=password_postgres.port,
                    credentials={"username": "postgres", "password": "wrong"})
    assert statuses(result) == [
        ("resolve", "passed", None), ("connect", "passed", None), ("tls", "passed", None),
        ("authenticate", "failed", "AUTH_FAILED"), ("read_catalogue", "skipped", None),
    ]


def test_a_login_that_cannot_read_the_catalogue_fails_at_read_catalogue(api, tls_postgres):
    result = _tested(api, host="localhost", port=tls_postgres.port, schema_name="hidden",
                    credentials={"username": "blind"},
                    tls={"mode": "verify-full", "ca_certificate": shared_authority().pem})
    assert statuses(result) == [
        ("resolve", "passed", None), ("connect", "passed", None), ("tls", "passed", None),
        ("authenticate", "passed", None), ("read_catalogue", "failed", "PERMISSION_DENIED"),
    ]
    assert result["status"] == "failed" and result["error_code"] == "PERMISSION_DENIED"


def test_a_verified_success_shows_every_step_and_the_certificate(api, tls_postgres):
    result = _tested(api, host="localhost", port=tls_postgres.port, schema_name="public",
                    credentials={"username": "postgres"},
                    tls={"mode": "verify-full", "ca_certificate": shared_authority().pem})
    assert [s["status"] for s in result["steps"]] == ["passed"] * 5
    assert result["steps"][2]["message"].endswith("verified.")
    assert result["tls"]["verified"] is True
    assert result["tls"]["server_certificate"]["subject"] == "CN=localhost"
    assert sum(step["duration_ms"] for step in result["steps"]) <= result["latency_ms"]


def test_a_server_without_tls_under_prefer_skips_the_tls_step(api, password_postgres):
    result = _tested(api, host="127.0.0.1", port=password_postgres.port,
                    credentials={"username": "postgres", "password": password_postgres.password})
    assert result["status"] == "succeeded" and result["tls"]["encrypted"] is False
    assert [(s["name"], s["status"]) for s in result["steps"]][2:4] == [("tls", "skipped"), ("authenticate", "passed")]


def test_a_refused_port_under_the_default_prefer_skips_tls_after_connect(api, postgres):
    result = _tested(api, host="127.0.0.1", port=free_port(), credentials={"username": "postgres"})
    assert statuses(result) == [
        ("resolve", "passed", None), ("connect", "failed", "HOST_UNREACHABLE"), ("tls", "skipped", None),
        ("authenticate", "skipped", None), ("read_catalogue", "skipped", None),
    ]


def test_a_mariadb_wrong_password_over_verified_tls_fails_at_authenticate(api, tls_mariadb):
    result = _tested(api, type="mariadb", host="localhost", port=tls_mariadb.port, database_name="shop",
                     credentials={"username": "app", "password": "wrong"},
                     tls={"mode": "verify-full", "ca_certificate": shared_authority().pem})
    assert statuses(result) == [
        ("resolve", "passed", None), ("connect", "passed", None), ("tls", "passed", None),
        ("authenticate", "failed", "AUTH_FAILED"), ("read_catalogue", "skipped", None),
    ]


def test_a_plain_login_to_a_server_requiring_tls_fails_at_authenticate_with_tls_required(api, tls_mariadb):
    result = _tested(api, type="mariadb", host="localhost", port=tls_mariadb.port, database_name="shop",
                     credentials={"username": "app", "password": tls_mariadb.password}, tls={"mode": "disable"})
    assert statuses(result) == [
        ("resolve", "passed", None), ("connect", "passed", None),
        ("authenticate", "failed", "TLS_REQUIRED"), ("read_catalogue", "skipped", None),
    ]
    assert result["tls"] is None


def test_through_the_ssh_tunnel_every_step_passes_and_the_tls_is_verified(api, tls_postgres, sshd):
    result = _tested(api, host="localhost", port=tls_postgres.port, schema_name="public", **sshd.fields(),
                     credentials={"username": "postgres", "ssh_private_key": sshd.keys["plain"]},
                     tls={"mode": "verify-full", "ca_certificate": shared_authority().pem})
    assert statuses(result) == [(name, "passed", None) for name in
                                ("resolve", "ssh_tunnel", "connect", "tls", "authenticate", "read_catalogue")]
    assert result["tls"]["verified"] is True and result["tls"]["server_certificate"]["subject"] == "CN=localhost"


def test_require_against_a_server_without_tls_fails_at_tls(api, password_postgres):
    result = _tested(api, host="127.0.0.1", port=password_postgres.port, tls={"mode": "require"},
                     credentials={"username": "postgres", "password": password_postgres.password})
    assert statuses(result) == [
        ("resolve", "passed", None), ("connect", "passed", None), ("tls", "failed", "TLS_UNAVAILABLE"),
        ("authenticate", "skipped", None), ("read_catalogue", "skipped", None),
    ]
