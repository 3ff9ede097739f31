"""The destination policy: which addresses a connector may open a socket to.

Hosts are resolved first and every address they resolve to is checked against
``DATASOURCES_NETWORK_POLICY`` before any socket opens; callers then connect to
the address that was checked, so a second DNS answer cannot swap it (rebinding).

- ``open``: refuses link-local and cloud-metadata addresses only (development);
- ``private`` (default outside DEBUG): also refuses loopback and unspecified addresses;
- ``public``: refuses every address that is not globally routable (multi-tenant hosting).
"""
import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from django.conf import settings

from rivergen.errors import ConnectorError
from rivergen.milestones import milestone

POLICIES = ("open", "private", "public")
# Metadata services that do not live in 169.254/16 (AWS over IPv6, Alibaba, Oracle, ECS task role).
METADATA_ADDRESSES = {
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "fd00:ec2::23", "100.100.100.200", "192.0.0.192")
}
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def current_policy() -> str:
    policy = getattr(settings, "DATASOURCES_NETWORK_POLICY", "private")
    return policy if policy in POLICIES else "private"


def _embedded_ipv4(ip):
    """IPv4 addresses hidden inside IPv6 forms (mapped, 6to4, NAT64) are judged as themselves."""
    if ip.version == 6:
        if ip.ipv4_mapped:
            return ip.ipv4_mapped
        if ip.sixtofour:
            return ip.sixtofour
        if ip in NAT64:
            return ipaddress.ip_address(int(ip) & 0xFFFFFFFF)
    return ip


def refusal(address: str, policy: str | None = None) -> str | None:
    """Why ``address`` is refused under ``policy``, or None when it is allowed."""
    policy = policy or current_policy()
    ip = _embedded_ipv4(ipaddress.ip_address(address.split("%", 1)[0]))
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if policy == "open":
        return None
    if ip.is_loopback or ip.is_unspecified:
        return "a loopback address"
    if policy == "private":
        return None
    if not ip.is_global:
        return "a private address"
    return None


# What to do about a refusal, by reason: every message names the setting and the way out.
ADVICE = {
    "a loopback address": "set DATASOURCES_NETWORK_POLICY=open to allow it (development only), or reach it "
                          "through an SSH tunnel",
    "a private address": "set DATASOURCES_NETWORK_POLICY=private to allow private ranges, or reach it "
                         "through an SSH tunnel",
}
NEVER = "no DATASOURCES_NETWORK_POLICY allows it"


def refusal_message(host: str, reason: str, policy: str) -> str:
    advice = ADVICE.get(reason, NEVER)
    return (f"{host} resolves to {reason}, which the network policy (DATASOURCES_NETWORK_POLICY={policy}) "
            f"does not allow; {advice}.")


def destination_refusal(host: str, port: int) -> str | None:
    """The one rule for a destination when it is saved (a source's host, a webhook's URL): why the
    policy refuses it now, or None. A name that does not resolve here is not judged (it may resolve
    later, or only where the workers run); every connection checks it again before its socket opens."""
    try:
        checked_address(host, port)
    except ConnectorError as exc:
        return exc.message if exc.code == "DESTINATION_NOT_ALLOWED" else None
    return None


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, IPv4 first (servers often listen on 127.0.0.1 only)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        raise ConnectorError("HOST_UNREACHABLE", f"The host name {host!r} cannot be resolved.", step="resolve") from None
    addresses = []
    for family, *_rest, sockaddr in sorted(infos, key=lambda info: info[0] != socket.AF_INET):
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    return addresses


def checked_address(host: str, port: int) -> str:
    """The address to connect to for ``host``; DESTINATION_NOT_ALLOWED when any answer is refused."""
    if not host:
        raise ConnectorError("HOST_UNREACHABLE", "No host is configured.")
    policy = current_policy()
    addresses = resolve(host, port)
    for address in addresses:
        reason = refusal(address, policy)
        if reason:
            raise ConnectorError("DESTINATION_NOT_ALLOWED", refusal_message(host, reason, policy), step="resolve")
    milestone("resolve")
    return addresses[0]


def check_tunnel_target(host: str, port: int = 0) -> str:
    """The host behind an SSH tunnel, checked as far as we can see it; the address to ask the SSH
    server for (so that its own lookup cannot answer differently), or the name it alone can resolve.

    A name that does not resolve here (a private name behind a bastion) is allowed, and so are
    loopback and private addresses: reaching them is the point of a tunnel. But every spelling of
    an address (``2852039166``, ``0xa9.254.169.254``, ``[::ffff:169.254.169.254]``) and every name
    that resolves here is judged by the rules all policies share: metadata, link-local and
    multicast addresses are never allowed.
    """
    if not host:
        raise ConnectorError("HOST_UNREACHABLE", "No host is configured.")
    try:
        addresses = resolve(host.strip("[]"), port or None)
    except ConnectorError:
        return host
    for address in addresses:
        reason = refusal(address, "open")
        if reason:
            raise ConnectorError("DESTINATION_NOT_ALLOWED", f"{host} is {reason}, which {NEVER}.", step="resolve")
    return addresses[0]


def check_unpinned_client(host: str, label: str, provider_domains: tuple[str, ...]):
    """For clients that resolve the host name again themselves (their TLS needs the name).

    Their second DNS answer cannot be pinned to the checked address, so under ``public`` (where
    a tenant's DNS must never steer a socket to an internal address) only the provider's own
    domains are accepted; the other policies rely on the check made just before.
    """
    name = (host or "").rstrip(".").lower()
    if current_policy() != "public" or any(name == d or name.endswith("." + d) for d in provider_domains):
        return
    domains = ", ".join(provider_domains)
    raise ConnectorError(
        "DESTINATION_NOT_ALLOWED",
        f"Under the network policy 'public', {label} sources must use the provider's own endpoint ({domains}); "
        f"{label}'s client resolves the host again, so another host cannot be pinned to a checked address.",
    )


def open_socket(address: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to an already checked address, with connect errors mapped to stable codes."""
    try:
        return socket.create_connection((address, port), timeout=timeout)
    except TimeoutError:
        raise ConnectorError("TIMEOUT", f"No answer from port {port} within {timeout:g} s.") from None
    except OSError:
        raise ConnectorError("HOST_UNREACHABLE", f"Nothing accepts connections on port {port}.") from None


def split_url(url: str) -> tuple[SplitResult, int]:
    """``url``'s parts and port (the scheme's default when none is given); CONNECTION_FAILED for what
    ``urlsplit`` cannot take apart (an unbalanced bracket in the host, a port that is no number)."""
    try:
        parts = urlsplit(url)
        return parts, parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise ConnectorError("CONNECTION_FAILED", "The URL is not valid (its host or port cannot be read).") from None
