"""The one ``tls`` object mapped to libpq (PostgreSQL, Redshift) and PyMySQL (MySQL, MariaDB), and
what a handshake achieved.

Material reaches the drivers as private temporary files (``security.tls.material``); a path the
libraries would otherwise look in by themselves (``~/.postgresql/``) is replaced by a name in that
private directory, so nothing of this server's own account is ever presented or trusted.
"""
import os
import ssl
import struct

from datasources.connectors.base import ConnectorError
from datasources.security import network
from datasources.security.tls import (
    VERIFYING,
    Material,
    client_context,
    recording,
    tls_report,
)

SSL_REQUEST = struct.pack("!ii", 8, 80877103)  # PostgreSQL's "may we speak TLS?"


def system_trust_file() -> str:
    """The trust store's bundle, for drivers that take a file name (``verify-*`` without a CA)."""
    import certifi  # httpx's dependency: always installed with the HTTP connector
    return ssl.get_default_verify_paths().cafile or certifi.where()


def libpq_options(found: Material) -> dict:
    absent = os.path.join(found.directory, "none")
    options = {"sslmode": found.mode}
    if found.mode == "disable":
        return options
    options["sslrootcert"] = (found.ca or system_trust_file()) if found.mode in VERIFYING else absent
    options["sslcert"] = found.cert or absent
    options["sslkey"] = found.key or absent
    return options


def pymysql_options(found: Material, hostname: str) -> dict:
    if found.mode == "disable":
        return {"ssl_disabled": True}
    if found.mode == "prefer":
        return {}  # PyMySQL's own "preferred": TLS when offered, never verified (see pymysql_preferred)
    return {"ssl": host_checking_context(found, hostname)}


def pymysql_preferred(engine, found: Material) -> None:
    """Under ``prefer`` with a client certificate, PyMySQL's preferred mode (TLS when the server offers
    it, else plain text) with a context that presents the certificate: an ``ssl`` argument would make
    TLS required, and PyMySQL's own preferred context has no certificate."""
    if found.mode != "prefer" or not found.cert:
        return
    from pymysql.connections import Connection
    from sqlalchemy import event

    context = client_context(found)  # prefer: not verified

    def connect(dialect, record, cargs, cparams):
        connection = Connection(*cargs, **cparams, defer_connect=True)
        connection.ctx = context  # PyMySQL set ssl (True) and _ssl_required (False) for its preferred mode
        connection.connect()
        return connection

    event.listen(engine, "do_connect", connect)


def host_checking_context(found: Material, hostname: str) -> ssl.SSLContext:
    """A context that checks ``hostname`` (the source's host), whatever address the driver dialled
    (a checked address, or a tunnel's local end)."""
    return recording(client_context(found), {}, hostname)


def report(*, encrypted: bool, mode: str, protocol=None, der=None) -> dict:
    return tls_report(mode, {"protocol": protocol, "der": der} if encrypted else {})


def postgres_report(raw, found: Material, endpoint, timeout) -> dict:
    encrypted = bool(raw.pgconn.ssl_in_use)
    if not encrypted:
        return report(encrypted=False, mode=found.mode)
    der, protocol = postgres_certificate(endpoint, timeout)
    return report(encrypted=True, mode=found.mode, protocol=_session_protocol(raw) or protocol, der=der)


def _session_protocol(raw):
    """The session's own TLS version, as the server saw it (pg_stat_ssl; not on Redshift)."""
    try:
        with raw.cursor() as cursor:
            cursor.execute("SELECT version FROM pg_catalog.pg_stat_ssl WHERE pid = pg_catalog.pg_backend_pid()")
            row = cursor.fetchone()
        return row[0] if row else None
    except Exception:  # noqa: BLE001 - a server without the view: the probe's version stands
        raw.rollback()
        return None


def postgres_certificate(endpoint, timeout, context=None) -> tuple:
    """The server certificate (DER) and TLS version of a handshake of our own (libpq hands out neither).

    With ``context`` the handshake verifies, and its ``ssl.SSLError`` says why it failed.
    """
    if context is None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    sock = network.open_socket(endpoint.address, endpoint.port, timeout)
    with sock:
        sock.sendall(SSL_REQUEST)
        if sock.recv(1) != b"S":
            return None, None
        with context.wrap_socket(sock, server_hostname=endpoint.hostname) as secured:
            return secured.getpeercert(binary_form=True), secured.version()


def postgres_failure_reason(found: Material, endpoint, timeout):
    """The verification error of a handshake of ours, which names what libpq only calls "verify failed"."""
    try:
        postgres_certificate(endpoint, timeout, client_context(found))
    except ssl.SSLError as exc:
        return exc
    except Exception:  # noqa: BLE001 - only a diagnosis: the driver's own failure stands
        return None
    return None


def pymysql_report(raw, found: Material) -> dict:
    sock = raw._sock
    encrypted = isinstance(sock, ssl.SSLSocket)
    return report(encrypted=encrypted, mode=found.mode, protocol=sock.version() if encrypted else None,
                  der=sock.getpeercert(binary_form=True) if encrypted else None)


def pymysql_failure(error, target, endpoint, connect_args, found: Material):
    """MariaDB refuses a plain login under require_secure_transport like a wrong password: under
    ``disable`` an AUTH_FAILED is TLS_REQUIRED when the same login passes over TLS."""
    if error.code == "AUTH_FAILED" and found.mode == "disable" and pymysql_login_over_tls(
            target, endpoint, connect_args, found):
        return ConnectorError("TLS_REQUIRED", f"{target.describe()} refuses connections without TLS (it answers "
                                              "them like a wrong password): set tls.mode to require or verify-full.")
    return error


def pymysql_login_over_tls(target, endpoint, connect_args, found: Material) -> bool:
    """Whether the same login succeeds over (unverified) TLS: then the server only refused plain text.

    The source's client certificate goes along: a login created ``REQUIRE X509`` needs it there too.
    """
    import pymysql
    over_tls = Material("require", found.directory, cert=found.cert, key=found.key)
    try:
        pymysql.connect(host=endpoint.address, port=endpoint.port, user=target.username or "",
                        password=target.password or "", database=target.database,
                        ssl=host_checking_context(over_tls, endpoint.hostname), **connect_args).close()
    except pymysql.MySQLError:
        return False
    return True
