"""PostgreSQL under each TLS mode, against a throwaway ``ssl=on`` cluster and the tests' own CA."""
import os

import pytest

from datasources.connectors import connector_for
from tests.support.certificates import shared_authority
from tests.support.servers import connector_error, make_source

pytestmark = [pytest.mark.services, pytest.mark.django_db]


def pg(cluster, mode, *, user="postgres", ca=True, cert=None, key=None, **fields):
    credentials = {"username": user, **({"tls_client_key": key} if key else {})}
    tls = {"mode": mode, "ca_certificate": shared_authority().pem if ca else None, "client_certificate": cert}
    return make_source(host="localhost", port=cluster.port, database_name="postgres", credentials=credentials,
                       tls=tls, **fields)


def run_test(source):
    return connector_for(source.type)().test(source)


def test_verify_full_with_the_ca_is_encrypted_and_verified(tls_postgres):
    outcome = run_test(pg(tls_postgres, "verify-full"))
    assert outcome.tls["encrypted"] is True and outcome.tls["verified"] is True
    assert outcome.tls["protocol"].startswith("TLSv1.")
    certificate = outcome.tls["server_certificate"]
    assert certificate["subject"] == "CN=localhost" and certificate["issuer"] == "CN=RiverGen Test CA"
    assert 28 <= certificate["days_left"] <= 30 and len(certificate["sha256"]) == 64


def test_verify_full_without_the_ca_trusts_only_the_system_store(tls_postgres):
    error = connector_error(pg(tls_postgres, "verify-full", ca=False))
    assert error.code == "SSL_ERROR" and "unknown CA" in error.message


def test_require_encrypts_without_verifying(tls_postgres):
    outcome = run_test(pg(tls_postgres, "require", ca=False))
    assert outcome.tls["encrypted"] is True and outcome.tls["verified"] is False


def test_disable_is_plain(tls_postgres):
    outcome = run_test(pg(tls_postgres, "disable", ca=False))
    assert outcome.tls == {"encrypted": False, "verified": False, "protocol": None, "server_certificate": None}


def test_another_names_certificate_fails_verify_full_and_passes_verify_ca(tls_postgres):
    tls_postgres.serve(shared_authority().issue("db.elsewhere.test"))
    try:
        error = connector_error(pg(tls_postgres, "verify-full"))
        assert error.code == "SSL_ERROR" and "does not match the host name" in error.message
        assert run_test(pg(tls_postgres, "verify-ca")).tls["verified"] is True
    finally:
        tls_postgres.serve(tls_postgres.server)


def test_an_expired_certificate_fails(tls_postgres):
    tls_postgres.serve(shared_authority().issue("localhost", expired=True))
    try:
        error = connector_error(pg(tls_postgres, "verify-full"))
        assert error.code == "SSL_ERROR" and "expired" in error.message
    finally:
        tls_postgres.serve(tls_postgres.server)


def test_certificate_login_passes_with_the_client_certificate_and_fails_without(tls_postgres):
    client = shared_authority().issue("certuser", client=True)
    outcome = run_test(pg(tls_postgres, "verify-full", user="certuser", cert=client.cert_pem, key=client.key_pem))
    assert outcome.tls["verified"] is True
    error = connector_error(pg(tls_postgres, "verify-full", user="certuser"))
    assert error.code == "AUTH_FAILED" and error.message == (
        "The server refused the login of 'certuser': it requires a client certificate.")


def test_material_files_are_private_and_removed(tls_postgres, monkeypatch, tmp_path):
    import tempfile

    from datasources.connectors.sql import secure
    seen = {}
    original = secure.libpq_options

    def spy(found):
        seen.update({name: (path, os.stat(path).st_mode & 0o777) for name, path in
                     (("ca", found.ca), ("cert", found.cert), ("key", found.key), ("dir", found.directory))})
        return original(found)

    monkeypatch.setattr(secure, "libpq_options", spy)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    client = shared_authority().issue("certuser", client=True)
    run_test(pg(tls_postgres, "verify-full", user="certuser", cert=client.cert_pem, key=client.key_pem))
    assert {name: mode for name, (_, mode) in seen.items()} == {"ca": 0o600, "cert": 0o600, "key": 0o600, "dir": 0o700}
    assert not any(os.path.exists(path) for path, _ in seen.values())


def test_a_server_without_tls(password_postgres):
    def source(mode):
        return make_source(host="127.0.0.1", port=password_postgres.port, database_name="postgres",
                           credentials={"username": "postgres", "password": password_postgres.password},
                           tls={"mode": mode, "ca_certificate": None, "client_certificate": None})

    error = connector_error(source("require"))
    assert error.code == "TLS_UNAVAILABLE"
    assert run_test(source("prefer")).tls["encrypted"] is False


def test_a_login_that_cannot_use_the_schema_is_permission_denied(tls_postgres):
    error = connector_error(pg(tls_postgres, "verify-full", user="blind", schema_name="hidden"))
    assert error.code == "PERMISSION_DENIED" and "hidden" in error.message


def tunnelled(cluster, sshd, mode, **kwargs):
    source = pg(cluster, mode, **kwargs)
    for field, value in sshd.fields().items():
        setattr(source, field, value)
    source.credentials["ssh_private_key"] = sshd.keys["plain"]
    return source


@pytest.fixture
def localhost_only(tls_postgres):
    """The cluster serving a certificate for ``localhost`` alone: the tunnel's local end is 127.0.0.1,
    so a check of the dialled address instead of the source's host name would fail."""
    tls_postgres.serve(shared_authority().issue("localhost", names=("localhost",)))
    yield tls_postgres
    tls_postgres.serve(tls_postgres.server)


def test_through_the_ssh_tunnel_verify_full_checks_the_sources_host_name(localhost_only, sshd):
    outcome = run_test(tunnelled(localhost_only, sshd, "verify-full"))
    assert outcome.tls["verified"] is True and outcome.tls["server_certificate"]["subject"] == "CN=localhost"
    localhost_only.serve(shared_authority().issue("db.elsewhere.test"))
    error = connector_error(tunnelled(localhost_only, sshd, "verify-full"))
    assert error.code == "SSL_ERROR" and "does not match the host name" in error.message
    assert run_test(tunnelled(localhost_only, sshd, "verify-ca")).tls["verified"] is True


def test_through_the_ssh_tunnel_an_expired_certificate_fails(localhost_only, sshd):
    localhost_only.serve(shared_authority().issue("localhost", expired=True))
    error = connector_error(tunnelled(localhost_only, sshd, "verify-full"))
    assert error.code == "SSL_ERROR" and "expired" in error.message


def test_through_the_ssh_tunnel_certificate_login_passes_with_the_client_certificate_and_fails_without(
        localhost_only, sshd):
    client = shared_authority().issue("certuser", client=True)
    outcome = run_test(tunnelled(localhost_only, sshd, "verify-full", user="certuser", cert=client.cert_pem,
                                 key=client.key_pem))
    assert outcome.tls["verified"] is True
    error = connector_error(tunnelled(localhost_only, sshd, "verify-full", user="certuser"))
    assert error.code == "AUTH_FAILED" and "requires a client certificate" in error.message


def test_a_client_certificate_for_another_login_is_refused_saying_so(tls_postgres):
    someone = shared_authority().issue("someone", client=True)
    error = connector_error(pg(tls_postgres, "verify-full", user="certuser", cert=someone.cert_pem, key=someone.key_pem))
    assert error.code == "AUTH_FAILED" and error.message.endswith("the client certificate does not name this login.")
