"""MariaDB (and so MySQL's PyMySQL path) under TLS modes, against a throwaway server that requires TLS."""
import pytest

from datasources.connectors import connector_for
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

    if run_test(source("prefer")).tls["encrypted"]:
        pytest.skip("the machine's MariaDB offers TLS")
    assert connector_error(source("require")).code == "TLS_UNAVAILABLE"
