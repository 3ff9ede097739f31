"""HTTP APIs, reached at a base URL (host and port, or a connection string); see ``web`` for how."""
import re

from datasources.connectors.base import LOGIN, Connector, ConnectorError, TestOutcome
from datasources.connectors.targets import by_host_name
from datasources.connectors.web import base_url_of, check_status, get
from datasources.security.tls import (
    CLIENT_KEY,
    client_context,
    material,
    recording,
    tls_report,
)
from rivergen.milestones import milestone

HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")
RESERVED_HEADERS = ("host", "content-length", "transfer-encoding", "connection")


class HttpApiConnector(Connector):
    type_name, label, family, default_port = "http_api", "HTTP API", "http", 443
    required = (("host",), ("connection_string",))
    schemes = ("http", "https")
    # The header that carries api_key; oauth_token always goes as "Authorization: Bearer".
    credential_keys = ("api_key_header",)
    credential_labels = {"api_key_header": "API key header (default X-API-Key)"}
    form_fields = ("host", "port", "connection_string")
    form_credentials = ("api_key", "oauth_token", *LOGIN)
    # An https URL is always verified by default; an http one has no TLS to set.
    tls_modes, tls_default = ("disable", "require", "verify-ca", "verify-full"), "verify-full"
    tls_honoured = True

    def reach(self, source, work):
        return by_host_name(self, source, work, tunnel_refusal="HTTP API sources do not support SSH tunnels.")

    def check(self, source, target, endpoint) -> TestOutcome:
        base = base_url_of(source, self.default_port)
        tls = self.tls_of(source.tls)
        if source.tls and (tls["mode"] == "disable") != (base.scheme == "http"):
            raise ConnectorError("TLS_UNAVAILABLE" if base.scheme == "http" else "UNSUPPORTED",
                                 f"tls.mode {tls['mode']} does not fit the {base.scheme}:// URL: plain HTTP is "
                                 "tls.mode disable, and an https URL is always encrypted (require skips verification).")
        seen = {}
        with material(tls, target.credentials.get(CLIENT_KEY)) as found:
            verify = recording(client_context(found), seen) if base.scheme == "https" else True
            response = get(base, "", self.auth_headers(target.credentials), source.connection_timeout, verify=verify)
        milestone("authenticate")
        check_status(response, base.host)
        return TestOutcome(server_version=response.headers.get("server"), tls=tls_report(tls["mode"], seen))

    @staticmethod
    def auth_headers(credentials) -> dict:
        headers = {"Accept": "application/json, */*"}
        if credentials.get("api_key"):
            name = credentials.get("api_key_header") or "X-API-Key"
            if not HEADER_NAME.match(name) or name.lower() in RESERVED_HEADERS:
                raise ConnectorError("CONNECTION_FAILED", f"credentials.api_key_header {name!r} is not a usable header name.")
            headers[name] = credentials["api_key"]
        if credentials.get("oauth_token"):
            headers["Authorization"] = f"Bearer {credentials['oauth_token']}"
        for key in ("api_key", "oauth_token"):  # checked when saved, unless read through a secret reference
            value = credentials.get(key)
            if value and not (value.isascii() and value.isprintable() and " " not in value):
                raise ConnectorError("CONNECTION_FAILED", f"credentials.{key} is not usable in an HTTP header "
                                     "(visible ASCII characters only).")
        return headers


class OtherConnector(Connector):
    type_name, label, family = "other", "Other", "other"
    schemes = ()
