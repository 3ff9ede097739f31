"""Redis over TLS only (``--tls-port``, client certificates required), under verify-full."""
import pytest

from datasources.connectors import connector_for
from tests.support.certificates import Authority, shared_authority
from tests.support.servers import connector_error, make_source

pytestmark = [pytest.mark.services, pytest.mark.django_db]


def redis_source(server, mode="verify-full", ca=None, client=True):
    issued = shared_authority().issue("rivergen", client=True) if client else None
    tls = {"mode": mode, "ca_certificate": ca if ca is not None else shared_authority().pem,
           "client_certificate": issued.cert_pem if issued else None}
    return make_source("redis", host="localhost", port=server.port, database_name="0", tls=tls,
                       credentials={"tls_client_key": issued.key_pem} if issued else {})


def test_verify_full_with_a_client_certificate_passes(tls_redis):
    outcome = connector_for("redis")().test(redis_source(tls_redis))
    assert outcome.server_version[0].isdigit()
    assert outcome.tls["encrypted"] is True and outcome.tls["verified"] is True
    assert outcome.tls["server_certificate"]["subject"] == "CN=localhost"


def test_another_ca_fails_verification(tls_redis):
    error = connector_error(redis_source(tls_redis, ca=Authority("Elsewhere CA").pem))
    assert error.code == "SSL_ERROR" and "unknown CA" in error.message


def test_without_a_client_certificate_the_server_refuses(tls_redis):
    error = connector_error(redis_source(tls_redis, client=False))
    assert error.code == "SSL_ERROR"


def test_through_the_ssh_tunnel_verify_full_checks_the_sources_host_name(tls_redis, sshd):
    # The server's certificate names localhost only; the client dials the tunnel's end, 127.0.0.1.
    source = redis_source(tls_redis)
    for field, value in sshd.fields().items():
        setattr(source, field, value)
    source.credentials["ssh_private_key"] = sshd.keys["plain"]
    outcome = connector_for("redis")().test(source)
    assert outcome.tls["verified"] is True and outcome.tls["server_certificate"]["subject"] == "CN=localhost"


@pytest.mark.parametrize("mode", ["require", "verify-full"])
def test_a_mode_demanding_tls_against_a_plain_redis_is_tls_unavailable(mode):
    # The shared Redis on 6379 speaks no TLS: it waits on the ClientHello as on an unfinished
    # command, so the handshake stalls; the answer must say why, not just TIMEOUT.
    source = make_source("redis", host="localhost", port=6379, database_name="0", connection_timeout=2,
                         tls={"mode": mode, "ca_certificate": shared_authority().pem, "client_certificate": None})
    error = connector_error(source)
    assert error.code == "TLS_UNAVAILABLE", error.message
    assert "without TLS" in error.message
