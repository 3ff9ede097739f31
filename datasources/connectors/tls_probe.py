"""A TLS handshake of our own before a driver's, for drivers that retry a failed handshake until
their own timeout and then report it in words we cannot rely on (pymongo, cassandra-driver).

The probe uses the very context the driver is then given (``security.tls.recording`` around
``client_context``), so it checks the same CA and the source's host name, whatever address is
dialled (a checked address, or a tunnel's local end); the driver's own handshake verifies again.
"""
import ssl

from datasources.connectors.base import ConnectorError
from datasources.security import network
from datasources.security.tls import handshake_failure

# What an SSL error reads like when the peer answered the ClientHello with something that is not
# TLS, or hung up on it: a server of the protocol that offers no TLS on this port.
NOT_TLS = ("wrong version number", "record layer failure", "unexpected eof", "eof occurred",
           "packet length too long", "unknown protocol", "http request")


def probe(endpoint, context: ssl.SSLContext, timeout: float, label: str) -> None:
    """One handshake with ``context`` at ``endpoint``; SSL_ERROR (saying why) or TLS_UNAVAILABLE."""
    sock = network.open_socket(endpoint.address, endpoint.port, timeout)
    try:
        with context.wrap_socket(sock, server_hostname=endpoint.hostname):
            pass
    except (ssl.SSLError, ConnectionError, OSError) as exc:
        raise tls_error(exc, label, f"{endpoint.hostname}:{endpoint.port}") from None
    finally:
        sock.close()


def tls_error(exc: BaseException, label: str, where: str) -> ConnectorError:
    text = str(exc).lower()
    if isinstance(exc, TimeoutError) or "timed out" in text:
        return ConnectorError("TIMEOUT", f"{label[:1].upper() + label[1:]} at {where} did not complete the TLS handshake in time.")
    if isinstance(exc, (ssl.SSLEOFError, ConnectionResetError, BrokenPipeError)) or any(n in text for n in NOT_TLS):
        return ConnectorError("TLS_UNAVAILABLE", f"{label[:1].upper() + label[1:]} at {where} does not answer the TLS handshake: it offers "
                                                 "no TLS on this port, which the source's tls.mode demands.")
    return ConnectorError("SSL_ERROR", f"The TLS negotiation with {label} at {where} failed: {handshake_failure(exc)}.")


def driver_tls_error(exc: BaseException, label: str, where: str, handshake_done: bool) -> ConnectorError | None:
    """The TLS failure a driver's error stands for, or None when it is none. After a handshake
    that completed (``handshake_done``), only a verification failure is one: an end of stream then
    is the server hanging up in its own protocol, not a server without TLS."""
    text = str(exc).lower()
    if not any(word in text for word in ("ssl", "certificate", "tls")):
        return None
    if handshake_done and not any(word in text for word in ("certificate", "verify failed", "hostname")):
        return None
    return tls_error(exc, label, where)
