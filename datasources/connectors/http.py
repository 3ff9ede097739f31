"""HTTP APIs, reached at a base URL (host and port, or a connection string)."""
from datasources.connectors.base import Connector


class HttpApiConnector(Connector):
    type_name, label, family, default_port = "http_api", "HTTP API", "http", 443
    required = (("host",), ("connection_string",))
    schemes = ("http", "https")
    # The header that carries api_key; oauth_token always goes as "Authorization: Bearer".
    credential_keys = ("api_key_header",)


class OtherConnector(Connector):
    type_name, label, family = "other", "Other", "other"
    schemes = ()
