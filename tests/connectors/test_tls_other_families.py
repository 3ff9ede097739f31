"""TLS of SQL Server, Oracle (TCPS), MongoDB, Cassandra and Elasticsearch, proved against servers
of the tests' own on loopback (these databases cannot run here).

The listeners complete a real TLS handshake with a certificate of the tests' CA and then speak no
database's protocol: a driver that got past the handshake fails with a connection error, never
``SSL_ERROR``. Their certificates name ``localhost`` only (no IP address), while every driver dials
the checked address 127.0.0.1: passing ``verify-full`` proves the source's host name is checked,
not the address dialled (what a tunnel's local end needs too). Elasticsearch is served for real
over HTTPS and MongoDB by a wire-protocol server over TLS (a whole ``succeeded``); SQL Server by a
TDS pre-login server that carries the handshake as TDS 7 does and decrypts the login that follows.
"""
import hashlib
import ssl

import pytest

from datasources.connectors import connector_for
from datasources.connectors.sql import tds
from datasources.connectors.ssh import Endpoint
from tests.support.certificates import Authority, shared_authority
from tests.support.mongo_wire import MongoWireServer
from tests.support.servers import RecordingHttpServer, connector_error, make_source
from tests.support.tds import ENCRYPT_NOT_SUP, TdsServer
from tests.support.tls_listeners import TlsListener, server_context

pytestmark = [pytest.mark.loopback, pytest.mark.django_db]

NOT_TLS_FAILURES = ("SSL_ERROR", "TLS_UNAVAILABLE", "UNSUPPORTED")
# Driver families against a bare TLS listener, and the handshakes a connection attempt makes there:
# pymongo and cassandra-driver are preceded by a probe of ours (their own errors do not say why).
DRIVERS = {"mongodb": 2, "cassandra": 2, "oracle": 1}


def tls(mode="verify-full", ca=None, client=None):
    return {"mode": mode, "ca_certificate": shared_authority().pem if ca is None else ca,
            "client_certificate": client.cert_pem if client else None}


def source(type_name, port, mode="verify-full", ca=None, client=None, **fields):
    credentials = {"username": "reader", "password": "secret-pw"}
    if client:
        credentials["tls_client_key"] = client.key_pem
    return make_source(type_name, host="localhost", port=port, database_name="db", tls=tls(mode, ca, client),
                       credentials=credentials, connection_timeout=2, **fields)


@pytest.fixture
def right_name():
    server = TlsListener()
    yield server
    server.close()


@pytest.fixture
def other_name():
    server = TlsListener(shared_authority().issue("elsewhere.example", names=("elsewhere.example",)))
    yield server
    server.close()


@pytest.fixture
def plain():
    server = TlsListener(tls=False)
    yield server
    server.close()


@pytest.mark.parametrize("type_name", DRIVERS)
def test_verify_full_with_the_right_ca_gets_past_the_handshake(type_name, right_name):
    error = connector_error(source(type_name, right_name.port))
    assert error.code not in NOT_TLS_FAILURES, error.message
    assert right_name.handshakes >= DRIVERS[type_name]


@pytest.mark.parametrize("type_name", DRIVERS)
def test_a_certificate_for_another_name_fails_verify_full_naming_the_mismatch(type_name, other_name):
    error = connector_error(source(type_name, other_name.port))
    assert error.code == "SSL_ERROR"
    assert "does not match the host name" in error.message
    assert other_name.handshakes == 0


@pytest.mark.parametrize("type_name", DRIVERS)
def test_verify_ca_accepts_a_certificate_for_another_name(type_name, other_name):
    error = connector_error(source(type_name, other_name.port, mode="verify-ca"))
    assert error.code not in NOT_TLS_FAILURES, error.message
    assert other_name.handshakes >= DRIVERS[type_name]


@pytest.mark.parametrize("type_name", DRIVERS)
def test_an_unknown_ca_fails_verification(type_name, right_name):
    error = connector_error(source(type_name, right_name.port, ca=Authority("Elsewhere CA").pem))
    assert error.code == "SSL_ERROR" and "unknown CA" in error.message


@pytest.mark.parametrize("type_name", DRIVERS)
def test_an_expired_certificate_fails_verification(type_name):
    server = TlsListener(shared_authority().issue("localhost", names=("localhost",), expired=True))
    try:
        error = connector_error(source(type_name, server.port))
    finally:
        server.close()
    assert error.code == "SSL_ERROR" and "expired" in error.message


@pytest.mark.parametrize("type_name", DRIVERS)
def test_require_against_a_server_without_tls_is_tls_unavailable(type_name, plain):
    error = connector_error(source(type_name, plain.port, mode="require"))
    assert error.code == "TLS_UNAVAILABLE", error.message


@pytest.mark.parametrize("type_name", DRIVERS)
def test_the_client_certificate_is_presented(type_name, right_name):
    client = shared_authority().issue("rivergen-client", client=True)
    connector_error(source(type_name, right_name.port, client=client))
    assert right_name.client_subjects and set(right_name.client_subjects) == {"rivergen-client"}


@pytest.mark.parametrize("type_name", DRIVERS)
def test_disable_connects_without_tls(type_name, right_name):
    connector_error(source(type_name, right_name.port, mode="disable"))
    assert right_name.handshakes == 0


# --- Elasticsearch: a real (minimal) Elasticsearch API over HTTPS ---

def elasticsearch_over_https(issued):
    server = RecordingHttpServer()
    server.server.socket = server_context(issued).wrap_socket(server.server.socket, server_side=True)
    server.routes["/"] = (200, {"Content-Type": "application/json"}, b'{"version": {"number": "8.15.0"}}')
    server.routes["/_mapping"] = (200, {"Content-Type": "application/json"},
                                  b'{"orders": {"mappings": {"properties": {"total": {"type": "double"}}}}}')
    return server


@pytest.fixture
def https_search():
    issued = shared_authority().issue("localhost", names=("localhost",))
    server = elasticsearch_over_https(issued)
    server.issued = issued
    yield server
    server.close()


@pytest.fixture
def https_search_elsewhere():
    server = elasticsearch_over_https(shared_authority().issue("elsewhere.example", names=("elsewhere.example",)))
    yield server
    server.close()


def test_elasticsearch_verify_full_succeeds_and_reports_the_certificate(https_search):
    outcome = connector_for("elasticsearch")().test(source("elasticsearch", https_search.port))
    assert outcome.server_version == "8.15.0"
    assert outcome.tls["encrypted"] is True and outcome.tls["verified"] is True
    assert outcome.tls["protocol"].startswith("TLSv1.")
    certificate = outcome.tls["server_certificate"]
    assert certificate["subject"] == "CN=localhost" and certificate["issuer"] == "CN=RiverGen Test CA"
    der = ssl.PEM_cert_to_DER_cert(https_search.issued.cert_pem)
    assert certificate["sha256"] == hashlib.sha256(der).hexdigest()
    tables = connector_for("elasticsearch")().discover(source("elasticsearch", https_search.port))
    assert [t.name for t in tables] == ["orders"]


def test_elasticsearch_require_does_not_verify(https_search_elsewhere):
    outcome = connector_for("elasticsearch")().test(
        source("elasticsearch", https_search_elsewhere.port, mode="require", ca=Authority("Elsewhere CA").pem))
    assert outcome.tls["encrypted"] is True and outcome.tls["verified"] is False


def test_elasticsearch_another_name_fails_verify_full_and_passes_verify_ca(https_search_elsewhere):
    error = connector_error(source("elasticsearch", https_search_elsewhere.port))
    assert error.code == "SSL_ERROR" and "does not match the host name" in error.message
    outcome = connector_for("elasticsearch")().test(source("elasticsearch", https_search_elsewhere.port, mode="verify-ca"))
    assert outcome.tls["verified"] is True


def test_elasticsearch_unknown_ca_fails(https_search):
    error = connector_error(source("elasticsearch", https_search.port, ca=Authority("Elsewhere CA").pem))
    assert error.code == "SSL_ERROR" and "unknown CA" in error.message


def test_elasticsearch_require_against_plain_http_is_tls_unavailable(http_server):
    http_server.routes["/"] = (200, {}, b'{"version": {"number": "8.15.0"}}')
    error = connector_error(source("elasticsearch", http_server.port, mode="require"))
    assert error.code == "TLS_UNAVAILABLE", error.message


def test_elasticsearch_disable_speaks_plain_http(http_server):
    http_server.routes["/"] = (200, {}, b'{"version": {"number": "8.15.0"}}')
    outcome = connector_for("elasticsearch")().test(source("elasticsearch", http_server.port, mode="disable", ca=""))
    assert outcome.server_version == "8.15.0" and outcome.tls["encrypted"] is False


# --- SQL Server: FreeTDS's encryption, against a TDS pre-login server ---

@pytest.fixture
def tds_tls():
    server = TdsServer()
    yield server
    server.close()


@pytest.fixture
def tds_plain():
    server = TdsServer(encryption=ENCRYPT_NOT_SUP)
    yield server
    server.close()


def test_sqlserver_require_sends_its_login_inside_tls(tds_tls):
    error = connector_error(source("sqlserver", tds_tls.port, mode="require", ca=""))
    assert error.code not in NOT_TLS_FAILURES, error.message
    assert "tls" in tds_tls.logins and "plain" not in tds_tls.logins


def test_sqlserver_require_against_a_server_without_encryption_is_tls_unavailable(tds_plain):
    error = connector_error(source("sqlserver", tds_plain.port, mode="require", ca=""))
    assert error.code == "TLS_UNAVAILABLE", error.message


def test_sqlserver_prefer_goes_on_in_plain_text_when_not_offered(tds_plain):
    error = connector_error(source("sqlserver", tds_plain.port, mode="prefer", ca=""))
    assert error.code not in NOT_TLS_FAILURES
    assert tds_plain.logins == ["plain"]


@pytest.fixture
def tds_elsewhere():
    server = TdsServer(shared_authority().issue("elsewhere.example", names=("elsewhere.example",)))
    yield server
    server.close()


def test_sqlserver_verify_full_sends_the_login_through_a_verified_session(tds_tls):
    error = connector_error(source("sqlserver", tds_tls.port))
    assert error.code not in NOT_TLS_FAILURES, error.message
    assert tds_tls.handshakes == 1 and tds_tls.logins == ["tls"]


def test_sqlserver_a_certificate_for_another_name_fails_verify_full_and_passes_verify_ca(tds_elsewhere):
    error = connector_error(source("sqlserver", tds_elsewhere.port))
    assert error.code == "SSL_ERROR" and "does not match the host name" in error.message
    assert tds_elsewhere.logins == []
    error = connector_error(source("sqlserver", tds_elsewhere.port, mode="verify-ca"))
    assert error.code not in NOT_TLS_FAILURES, error.message
    assert tds_elsewhere.logins == ["tls"]


def test_sqlserver_an_unknown_ca_fails_verification(tds_tls):
    error = connector_error(source("sqlserver", tds_tls.port, ca=Authority("Elsewhere CA").pem))
    assert error.code == "SSL_ERROR" and "unknown CA" in error.message
    assert tds_tls.logins == []


def test_sqlserver_verify_full_against_a_server_without_encryption_is_tls_unavailable(tds_plain):
    error = connector_error(source("sqlserver", tds_plain.port))
    assert error.code == "TLS_UNAVAILABLE", error.message
    assert tds_plain.logins == []


def test_sqlserver_cannot_present_a_client_certificate(tds_tls):
    client = shared_authority().issue("rivergen-client", client=True)
    error = connector_error(source("sqlserver", tds_tls.port, mode="require", ca="", client=client))
    assert error.code == "UNSUPPORTED" and "client certificate" in error.message


def test_the_tds_prelogin_reads_the_servers_certificate(tds_tls, tds_plain):
    seen = tds.handshake(Endpoint("localhost", "127.0.0.1", tds_tls.port), 5)
    assert seen["protocol"].startswith("TLSv1.") and seen["der"]
    assert tds.handshake(Endpoint("localhost", "127.0.0.1", tds_plain.port), 5) == {}


# --- MongoDB: a whole test against a wire-protocol server of the tests' own, over TLS ---

@pytest.fixture
def tls_mongo():
    server = MongoWireServer()
    yield server
    server.close()


def mongo(server, **tls_fields):
    return make_source("mongodb", host="localhost", port=server.port, database_name="db",
                       tls={**tls(), **tls_fields}, connection_timeout=5)


def test_mongodb_verify_full_succeeds_and_reports_the_certificate(tls_mongo):
    outcome = connector_for("mongodb")().test(mongo(tls_mongo))
    assert outcome.server_version == "7.0.12"
    assert outcome.tls["encrypted"] is True and outcome.tls["verified"] is True
    assert outcome.tls["server_certificate"]["subject"] == "CN=localhost"
    assert "buildinfo" in tls_mongo.commands


def test_mongodb_require_encrypts_without_verifying(tls_mongo):
    outcome = connector_for("mongodb")().test(mongo(tls_mongo, mode="require", ca_certificate=None))
    assert outcome.tls["encrypted"] is True and outcome.tls["verified"] is False


def test_mongodb_test_connection_lists_the_tls_step(tls_mongo, api):
    body = {"name": "mongo over tls", "type": "mongodb", "host": "localhost", "port": tls_mongo.port,
            "database_name": "db", "connection_timeout": 5, "tls": tls(), "credentials": {}}
    response = api.post("/api/v1/data-sources/test-connection", body, format="json")
    assert response.status_code == 200, response.json()
    result = response.json()["data"]
    assert result["status"] == "succeeded", result
    assert [(s["name"], s["status"]) for s in result["steps"]] == [
        ("resolve", "passed"), ("connect", "passed"), ("tls", "passed"), ("authenticate", "passed"),
        ("read_catalogue", "skipped")]
    assert result["tls"]["verified"] is True and result["tls"]["server_certificate"]["subject"] == "CN=localhost"


def tunnelled(source, sshd):
    for name, value in sshd.fields().items():
        setattr(source, name, value)
    source.credentials["ssh_private_key"] = sshd.keys["plain"]
    return source


@pytest.mark.services
def test_through_an_ssh_tunnel_verify_full_checks_the_sources_host_name(tls_mongo, other_name, right_name, tds_tls,
                                                                       sshd):
    # The tunnel's local end is 127.0.0.1; the certificates name localhost only.
    outcome = connector_for("mongodb")().test(tunnelled(mongo(tls_mongo), sshd))
    assert outcome.tls["verified"] is True and outcome.tls["server_certificate"]["subject"] == "CN=localhost"
    for type_name in ("oracle", "cassandra"):
        error = connector_error(tunnelled(source(type_name, right_name.port), sshd))
        assert error.code not in NOT_TLS_FAILURES, error.message
        error = connector_error(tunnelled(source(type_name, other_name.port), sshd))
        assert error.code == "SSL_ERROR" and "does not match the host name" in error.message
    error = connector_error(tunnelled(source("sqlserver", tds_tls.port), sshd))
    assert error.code not in NOT_TLS_FAILURES, error.message
    assert tds_tls.logins == ["tls"]
