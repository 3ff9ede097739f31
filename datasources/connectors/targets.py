"""Where a source points (its fields merged with its connection string and credentials), and the
two ways a connector's ``reach`` gets there: through a checked endpoint, or by host name.
"""
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from datasources.connectors.base import ConnectorError, credentials_of
from datasources.connectors.ssh import open_endpoint


@dataclass
class Target:
    scheme: str | None
    host: str | None
    port: int | None
    database: str | None
    username: str | None
    password: str | None
    path: str = ""
    options: dict = field(default_factory=dict)
    credentials: dict = field(default_factory=dict)

    def describe(self) -> str:
        return f"{self.host}:{self.port}"


def target_of(source, default_port=None) -> Target:
    """Fields win over the connection string; credentials win over a password inside it."""
    credentials = credentials_of(source)
    url = urlsplit(source.connection_string) if source.connection_string else None
    url_port = url.port if url else None
    return Target(
        scheme=url.scheme.lower() if url else None,
        host=source.host or (unquote(url.hostname) if url and url.hostname else None),
        port=source.port or url_port or default_port,
        database=source.database_name or (unquote(url.path.lstrip("/")) if url and url.path.strip("/") else None),
        username=credentials.get("username") or (unquote(url.username) if url and url.username else None),
        password=credentials.get("password") or (unquote(url.password) if url and url.password else None),
        path=url.path if url else "",
        options=dict(parse_qsl(url.query)) if url else {},
        credentials=credentials,
    )


@contextmanager
def endpoint_for(connector, source, *, relay: bool = False):
    """``(target, endpoint)`` while open: the checked address or an SSH tunnel's local end.

    For work that goes on after a call returns (a discovery read a chunk at a time).
    """
    target = target_of(source, connector.default_port)
    with open_endpoint(source, target, source.connection_timeout, relay=relay) as endpoint:
        yield target, endpoint


def through_endpoint(connector, source, work, *, relay: bool = False):
    """``work(source, target, endpoint)`` with the checked address or an SSH tunnel's local end."""
    with endpoint_for(connector, source, relay=relay) as (target, endpoint):
        return work(source, target, endpoint)


def by_host_name(connector, source, work, *, tunnel_refusal: str | None = None):
    """``work(source, target, None)`` for clients that connect by host name (HTTPS); no tunnel."""
    if tunnel_refusal and source.use_ssh_tunnel:
        raise ConnectorError("UNSUPPORTED", tunnel_refusal)
    return work(source, target_of(source, connector.default_port), None)
