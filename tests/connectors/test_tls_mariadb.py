"""MariaDB (and so MySQL's PyMySQL path) under TLS modes, against a throwaway server that requires TLS."""
import pytest

from datasources.connectors import connector_for
from tests.support import need
from tests.support.certificates import shared_authority
from tests.support.servers import connector_error, make_source

pytestmark = [pytest.mark.services, pytest.mark.django_db]


def maria(server, mode, password=None, ca=True, type_name="mariadb"):
    tls = {"mode": mode, "ca_certificate": shared_authority().pem if ca else None, "client_certificate": None}
    return make_source(type_name, host="localhost", port=server.port, database_name="shop", tls=tls,
                       credentials={"username": "app", "password": password or server.password})


def run_test(source):
    return connector_for(source.type)().test(source)


@pytest.mark.parametrize("mode", ["require", "verify-ca", "verify-full"])
def test_encrypted_modes_pass(tls_mariadb, mode):
    outcome = run_test(maria(tls_mariadb, mode, ca=mode != "require"))
    assert outcome.tls["encrypted"] is True and outcome.tls["verified"] is (mode != "require")
    assert outcome.tls["protocol"].startswith("TLSv1.")
    assert outcome.tls["server_certificate"]["subject"] == "CN=localhost"


def test_mysql_type_passes_verify_full_too(tls_mariadb):
    assert run_test(maria(tls_mariadb, "verify-full", type_name="mysql")).tls["verified"] is True


def test_verify_full_refuses_an_unknown_ca(tls_mariadb):
    error = connector_error(maria(tls_mariadb, "verify-full", ca=False))
    assert error.code == "SSL_ERROR" and "unknown CA" in error.message


def test_disable_is_told_that_the_server_requires_tls(tls_mariadb):
    error = connector_error(maria(tls_mariadb, "disable", ca=False))
    assert error.code == "TLS_REQUIRED" and "refuses connections without TLS" in error.message


def test_disable_with_a_wrong_password_stays_auth_failed(tls_mariadb):
    assert connector_error(maria(tls_mariadb, "disable", password="wrong", ca=False)).code == "AUTH_FAILED"


def test_a_server_without_tls(mariadb):
    def source(mode):
        return make_source("mariadb", host="127.0.0.1", port=3306, database_name="mysql",
                           credentials={"username": "root"},
                           tls={"mode": mode, "ca_certificate": None, "client_certificate": None})

    preferred = run_test(source("prefer"))
    need(not preferred.tls["encrypted"], "the machine's MariaDB without TLS")  # fails under REQUIRE_SERVICES=1
    assert preferred.tls == {"encrypted": False, "verified": False, "protocol": None, "server_certificate": None}
    error = connector_error(source("require"))
    assert error.code == "TLS_UNAVAILABLE" and "offers no TLS" in error.message


def certificate_login(server, mode="verify-full", client=None, type_name="mariadb"):
    """``certuser`` (REQUIRE SUBJECT '/CN=certuser' AND ISSUER the tests' CA, no password)."""
    tls = {"mode": mode, "ca_certificate": shared_authority().pem,
           "client_certificate": client.cert_pem if client else None}
    return make_source(type_name, host="localhost", port=server.port, database_name="shop", tls=tls,
                       credentials={"username": "certuser", **({"tls_client_key": client.key_pem} if client else {})})


@pytest.mark.parametrize("type_name", ["mariadb", "mysql"])
def test_a_login_requiring_a_client_certificate_passes_with_it(tls_mariadb, type_name):
    client = shared_authority().issue("certuser", client=True)
    outcome = run_test(certificate_login(tls_mariadb, client=client, type_name=type_name))
    assert outcome.tls["encrypted"] is True and outcome.tls["verified"] is True


def test_a_login_requiring_a_client_certificate_fails_without_it_as_a_refused_login(tls_mariadb):
    error = connector_error(certificate_login(tls_mariadb))
    # MariaDB answers "access denied": a refused login, not a TLS failure nor "TLS required".
    assert error.code == "AUTH_FAILED" and error.message == "The server refused the login of 'certuser'."


def test_a_client_certificate_for_another_subject_is_refused(tls_mariadb):
    error = connector_error(certificate_login(tls_mariadb, client=shared_authority().issue("someone", client=True)))
    assert error.code == "AUTH_FAILED"


def test_disable_with_a_client_certificate_is_told_that_the_server_requires_tls(tls_mariadb):
    """The second attempt over TLS presents the source's client certificate: without it the
    certificate login would fail there too and the answer would wrongly stay AUTH_FAILED."""
    error = connector_error(certificate_login(tls_mariadb, "disable", client=shared_authority().issue("certuser", client=True)))
    assert error.code == "TLS_REQUIRED"


def tunnelled(source, sshd):
    for field, value in sshd.fields().items():
        setattr(source, field, value)
    source.credentials["ssh_private_key"] = sshd.keys["plain"]
    return source


def test_through_the_ssh_tunnel_verify_full_checks_the_sources_host_name(tls_mariadb, sshd):
    # The server's certificate names localhost only; the driver dials the tunnel's end, 127.0.0.1.
    client = shared_authority().issue("certuser", client=True)
    outcome = run_test(tunnelled(certificate_login(tls_mariadb, client=client), sshd))
    assert outcome.tls["verified"] is True and outcome.tls["server_certificate"]["subject"] == "CN=localhost"
    assert run_test(tunnelled(maria(tls_mariadb, "verify-full"), sshd)).tls["verified"] is True
    tls_mariadb.serve(shared_authority().issue("db.elsewhere.test"))
    try:
        error = connector_error(tunnelled(maria(tls_mariadb, "verify-full"), sshd))
        assert error.code == "SSL_ERROR" and "does not match the host name" in error.message
        assert run_test(tunnelled(maria(tls_mariadb, "verify-ca"), sshd)).tls["verified"] is True
    finally:
        tls_mariadb.serve(tls_mariadb.server)


def test_through_the_ssh_tunnel_a_certificate_login_fails_without_the_certificate(tls_mariadb, sshd):
    assert connector_error(tunnelled(certificate_login(tls_mariadb), sshd)).code == "AUTH_FAILED"


def test_another_names_certificate_fails_verify_full_and_passes_verify_ca(tls_mariadb):
    tls_mariadb.serve(shared_authority().issue("db.elsewhere.test"))
    try:
        error = connector_error(maria(tls_mariadb, "verify-full"))
        assert error.code == "SSL_ERROR" and "does not match the host name" in error.message
        assert run_test(maria(tls_mariadb, "verify-ca")).tls["verified"] is True
    finally:
        tls_mariadb.serve(tls_mariadb.server)


def test_an_expired_certificate_fails(tls_mariadb):
    tls_mariadb.serve(shared_authority().issue("localhost", expired=True))
    try:
        error = connector_error(maria(tls_mariadb, "verify-ca"))
        assert error.code == "SSL_ERROR" and "expired" in error.message
    finally:
        tls_mariadb.serve(tls_mariadb.server)


def test_prefer_presents_the_client_certificate_when_the_server_offers_tls(tls_mariadb):
    """prefer is the default: a client certificate given with it must be presented, not dropped."""
    outcome = run_test(certificate_login(tls_mariadb, "prefer", client=shared_authority().issue("certuser", client=True)))
    assert outcome.tls["encrypted"] is True and outcome.tls["verified"] is False
    someone = shared_authority().issue("someone", client=True)
    assert connector_error(certificate_login(tls_mariadb, "prefer", client=someone)).code == "AUTH_FAILED"


def test_prefer_with_a_client_certificate_still_connects_to_a_server_without_tls(mariadb):
    client = shared_authority().issue("root", client=True)
    source = make_source("mariadb", host="127.0.0.1", port=3306, database_name="mysql",
                         credentials={"username": "root", "tls_client_key": client.key_pem},
                         tls={"mode": "prefer", "ca_certificate": None, "client_certificate": client.cert_pem})
    preferred = run_test(source)
    need(not preferred.tls["encrypted"], "the machine's MariaDB without TLS")
    assert preferred.tls["protocol"] is None
