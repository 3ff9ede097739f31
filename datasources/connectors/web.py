"""The HTTP client plumbing shared by HTTP APIs and Elasticsearch: base URLs, one pinned GET, status checks.

Requests go to the address the network policy checked, with the original name in
the Host header and TLS SNI (so certificates are still verified against it);
redirects are never followed and proxies from the environment are never used.
"""
from dataclasses import dataclass
from urllib.parse import urlsplit

from datasources.connectors.base import ConnectorError, driver_missing
from datasources.connectors.tls_probe import tls_error
from datasources.security import network


@dataclass
class BaseUrl:
    scheme: str
    host: str
    port: int
    path: str

    def authority(self, address: str) -> str:
        shown = f"[{address}]" if ":" in address else address
        return f"{self.scheme}://{shown}:{self.port}"


def base_url_of(source, default_port=443) -> BaseUrl:
    """The connection string's URL, or https://host:port (http when the port is 80)."""
    if source.connection_string:
        parts = urlsplit(source.connection_string)
        scheme = parts.scheme.lower() if parts.scheme.lower() in ("http", "https") else "https"
        port = parts.port or (80 if scheme == "http" else 443)
        return BaseUrl(scheme, source.host or parts.hostname, source.port or port, parts.path.rstrip("/"))
    port = source.port or default_port
    return BaseUrl("http" if port == 80 else "https", source.host, port, "")


def get(base: BaseUrl, path: str, headers: dict, timeout: float, auth=None, address: str | None = None,
        verify=True):
    """One GET to ``base`` + ``path`` at ``address`` (already checked) or the address checked now;
    returns the httpx response.

    ``verify``: an ``ssl.SSLContext`` for the source's own TLS settings, or True (httpx's trust
    store, the host name checked).
    """
    try:
        import httpx
    except ImportError:
        raise driver_missing("httpx") from None
    address = address or network.checked_address(base.host, base.port)
    url = base.authority(address) + base.path + path
    host_header = base.host if base.port in (80, 443) else f"{base.host}:{base.port}"
    extensions = {"sni_hostname": base.host} if base.scheme == "https" else {}
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False, verify=verify) as client:
            request = client.build_request(
                "GET", url, headers={**headers, "Host": host_header}, extensions=extensions,
            )
            return client.send(request, auth=auth)
    except httpx.TimeoutException:
        raise ConnectorError("TIMEOUT", f"{base.host}:{base.port} did not answer within {timeout:g} s.") from None
    except httpx.HTTPError as exc:
        # Under TLS 1.3 a refused client certificate arrives with the first read, not the connect.
        if "ssl" in str(exc).lower() or "certificate" in str(exc).lower():
            raise tls_error(exc, "the server", f"{base.host}:{base.port}") from None
        if isinstance(exc, httpx.ConnectError):
            raise ConnectorError("HOST_UNREACHABLE", f"Cannot connect to {base.host}:{base.port}.") from None
        raise ConnectorError("CONNECTION_FAILED", f"The HTTP exchange with {base.host}:{base.port} failed.") from None


def check_status(response, where: str):
    status = response.status_code
    if 300 <= status < 400:
        raise ConnectorError("HTTP_REDIRECT", f"{where} answered {status} (a redirect); redirects are not followed, "
                                              "so give the final URL.")
    if status in (401, 403):
        raise ConnectorError("AUTH_FAILED", f"{where} refused the credentials (HTTP {status}).")
    if status >= 400:
        raise ConnectorError("HTTP_ERROR", f"{where} answered HTTP {status}.")
