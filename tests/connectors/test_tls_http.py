"""An HTTPS API with a private CA that requires a client certificate, under verify-full."""
import ssl
import tempfile

import pytest

from datasources.connectors import connector_for
from tests.support.certificates import shared_authority
from tests.support.servers import RecordingHttpServer, connector_error, make_source

pytestmark = [pytest.mark.services, pytest.mark.django_db]


@pytest.fixture
def https_api():
    from tests.support import need
    need(True, "an HTTPS server of the test's own")
    server = RecordingHttpServer()
    issued = shared_authority().issue("localhost", names=("localhost",))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as chain:
        chain.write(issued.cert_pem + issued.key_pem)
        chain.flush()
        context.load_cert_chain(chain.name)
    context.load_verify_locations(cadata=shared_authority().pem)
    context.verify_mode = ssl.CERT_REQUIRED
    server.server.socket = context.wrap_socket(server.server.socket, server_side=True)
    server.routes["/"] = (200, {"Server": "private-api/1.0"}, b"{}")
    yield server
    server.close()


def api_source(server, *, client=True, mode="verify-full", url="https"):
    issued = shared_authority().issue("rivergen", client=True)
    tls = {"mode": mode, "ca_certificate": shared_authority().pem,
           "client_certificate": issued.cert_pem if client else None}
    return make_source("http_api", connection_string=f"{url}://localhost:{server.port}", tls=tls,
                       credentials={"tls_client_key": issued.key_pem} if client else {})


def test_verify_full_with_the_private_ca_and_a_client_certificate_passes(https_api):
    outcome = connector_for("http_api")().test(api_source(https_api))
    assert outcome.server_version.endswith("private-api/1.0")
    assert outcome.tls["encrypted"] is True and outcome.tls["verified"] is True
    assert outcome.tls["server_certificate"]["subject"] == "CN=localhost"


def test_without_the_client_certificate_the_handshake_fails(https_api):
    assert connector_error(api_source(https_api, client=False)).code == "SSL_ERROR"


def test_a_tls_mode_on_a_plain_http_url_is_tls_unavailable(https_api):
    assert connector_error(api_source(https_api, url="http")).code == "TLS_UNAVAILABLE"


def test_https_to_a_plain_http_server_is_tls_unavailable(http_server):
    source = make_source("http_api", connection_string=f"https://localhost:{http_server.port}",
                         tls={"mode": "require", "ca_certificate": None, "client_certificate": None})
    error = connector_error(source)
    assert error.code == "TLS_UNAVAILABLE", error.message
    assert "does not answer the TLS handshake" in error.message
