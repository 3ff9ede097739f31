
import pytest

from datasources.connectors import connector_for
from datasources.connectors.http import base_url_of
from tests.support import finishes_within
from tests.support.rebinding import rebinding
from tests.support.servers import connector_error, free_port, make_source

pytestmark = pytest.mark.loopback  # the HTTP servers, silent and closed ports are on loopback

JSON = {"Content-Type": "application/json", "Server": "stand-in/1.0"}


def api_source(server, path="", **fields):
    return make_source("http_api", connection_string=f"http://localhost:{server.port}{path}", **fields)


def test_success_sends_api_key_in_the_default_header(http_server):
    http_server.routes["/v1"] = (200, JSON, b"{}")
    outcome = connector_for("http_api")().test(api_source(http_server, "/v1", credentials={"api_key": "k-123"}))
    assert "stand-in/1.0" in outcome.server_version
    path, headers = http_server.requests[0]
    assert path == "/v1" and headers["X-API-Key"] == "k-123"
    assert headers["Host"] == f"localhost:{http_server.port}"  # the name, though the checked address was dialled


def test_a_second_dns_answer_does_not_move_the_connection(http_server, monkeypatch):
    # "rebind.invalid" resolves only through the patched resolver: a client that looked the
    # name up again by itself could not connect at all, and a second lookup through the
    # product's resolver would dial the metadata address.
    resolver = rebinding(monkeypatch)
    http_server.routes["/"] = (200, JSON, b"{}")
    source = make_source("http_api", connection_string=f"http://rebind.invalid:{http_server.port}")
    assert "stand-in/1.0" in connector_for("http_api")().test(source).server_version
    assert resolver.calls == ["rebind.invalid"]
    assert http_server.requests[0][1]["Host"] == f"rebind.invalid:{http_server.port}"


def test_a_refused_first_answer_stops_before_any_connection(http_server, monkeypatch):
    rebinding(monkeypatch, "169.254.169.254", "127.0.0.1")
    http_server.routes["/"] = (200, JSON, b"{}")
    source = make_source("http_api", connection_string=f"http://rebind.invalid:{http_server.port}")
    assert connector_error(source).code == "DESTINATION_NOT_ALLOWED"
    assert http_server.requests == []


def test_api_key_header_can_be_renamed_and_oauth_goes_as_bearer(http_server):
    http_server.routes["/"] = (204, {}, b"")
    credentials = {"api_key": "k", "api_key_header": "X-Token", "oauth_token": "tok"}
    connector_for("http_api")().test(api_source(http_server, credentials=credentials))
    headers = http_server.requests[0][1]
    assert headers["X-Token"] == "k" and headers["Authorization"] == "Bearer tok" and "X-API-Key" not in headers


def test_redirect_is_not_followed(http_server):
    http_server.routes["/"] = (302, {"Location": "/elsewhere"}, b"")
    http_server.routes["/elsewhere"] = (200, {}, b"")
    assert connector_error(api_source(http_server)).code == "HTTP_REDIRECT"
    assert [path for path, _ in http_server.requests] == ["/"]


@pytest.mark.parametrize("status, code", [(401, "AUTH_FAILED"), (403, "AUTH_FAILED"), (404, "HTTP_ERROR"), (500, "HTTP_ERROR")])
def test_error_statuses_have_stable_codes(http_server, status, code):
    http_server.routes["/"] = (status, {}, b"no")
    assert connector_error(api_source(http_server, credentials={"oauth_token": "Secret-token"})).code == code


def test_secret_never_in_the_message(http_server):
    http_server.routes["/"] = (401, {}, b"bad token Secret-token")
    error = connector_error(api_source(http_server, credentials={"oauth_token": "Secret-token"}))
    assert "Secret-token" not in error.message


def test_refused_port_is_host_unreachable():
    assert connector_error(make_source("http_api", connection_string=f"http://127.0.0.1:{free_port()}")).code == "HOST_UNREACHABLE"


def test_silent_server_times_out_within_the_deadline(silent):
    source = make_source("http_api", connection_string=f"http://127.0.0.1:{silent.port}", connection_timeout=1)
    with finishes_within(1):
        assert connector_error(source).code == "TIMEOUT"


def test_base_url_from_host_and_port():
    assert base_url_of(make_source("http_api", host="api.example.com", port=80)).scheme == "http"
    url = base_url_of(make_source("http_api", host="api.example.com", port=8443))
    assert (url.scheme, url.host, url.port) == ("https", "api.example.com", 8443)
    assert base_url_of(make_source("http_api", host="api.example.com")).port == 443


def test_unsafe_api_key_header_is_refused(http_server):
    source = api_source(http_server, credentials={"api_key": "k", "api_key_header": "Host"})
    assert connector_error(source).code == "CONNECTION_FAILED"
    assert http_server.requests == []
