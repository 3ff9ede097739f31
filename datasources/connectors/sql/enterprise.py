"""Microsoft SQL Server (pymssql, FreeTDS) and Oracle (python-oracledb in thin mode), and how each
applies the source's ``tls``.

Oracle speaks TLS on a TCPS listener from the first byte (no in-band negotiation): ``require`` and
``verify-*`` connect with TCPS and our ``ssl.SSLContext`` (in memory; the client certificate too),
``disable`` and ``prefer`` with plain TCP (there is nothing to prefer: a TCP listener never offers TLS).

FreeTDS negotiates TLS in the TDS pre-login (``encryption`` off / request / require: ``disable``,
``prefer``, ``require``) but takes a CA only from a ``freetds.conf`` file, read process-wide, so it
encrypts without verifying. Under ``verify-ca`` and ``verify-full`` FreeTDS talks to a relay of
ours that holds the verified TLS session with the server (``tds_relay``). FreeTDS presents no
client certificates: one answers ``UNSUPPORTED``.
"""
import ssl

from datasources.connectors.base import ConnectorError, on_deadline
from datasources.connectors.sql import introspection, tds
from datasources.connectors.sql.engines import SqlAlchemyConnector
from datasources.connectors.sql.errors import classify
from datasources.connectors.sql.tds_relay import RelayedEndpoint, TdsTlsRelay
from datasources.connectors.tls_probe import driver_tls_error
from datasources.security.tls import (
    ENCRYPTING,
    VERIFYING,
    client_context,
    handshake_failure,
    material,
    recording,
    tls_report,
)

FREETDS_ENCRYPTION = {"disable": "off", "prefer": "request", "require": "require"}


class SqlServerConnector(SqlAlchemyConnector):
    type_name, label, default_port = "sqlserver", "Microsoft SQL Server", 1433
    schemes = ("mssql", "sqlserver", "mssql+pymssql", "mssql+pyodbc")
    drivername, driver_package = "mssql+pymssql", "pymssql"
    version_query = "SELECT @@VERSION"
    queries = introspection.SQLSERVER
    relay = True  # FreeTDS retries a silent login past login_timeout
    tls_honoured = True

    def connect_args(self, source, target, endpoint):
        return {"login_timeout": source.connection_timeout, "timeout": source.connection_timeout}

    def reach(self, source, work):
        tls = self.tls_of(source.tls)
        if tls.get("client_certificate"):  # refused before anything is resolved or dialled
            raise ConnectorError("UNSUPPORTED", "SQL Server's driver (FreeTDS) cannot present a client certificate: "
                                                "remove tls.client_certificate.")
        if tls["mode"] not in VERIFYING:
            return super().reach(source, work)

        def through_verifying_relay(source, target, endpoint):
            with material(tls, None) as found:
                context = client_context(found)
            context.maximum_version = ssl.TLSVersion.TLSv1_2  # TDS 7 carries TLS 1.2 at most (1.3 is TDS 8)
            relay = TdsTlsRelay(endpoint, context, source.connection_timeout)
            on_deadline(relay.close)
            try:
                return work(source, target, RelayedEndpoint(endpoint.hostname, "127.0.0.1", relay.port, relay))
            except ConnectorError:
                if relay.failure is not None:  # FreeTDS only saw the relay hang up: the relay knows why
                    raise relay.failure from None
                raise
            finally:
                relay.close()
        return super().reach(source, through_verifying_relay)

    def tls_options(self, found, endpoint):
        # Under verify-*, FreeTDS speaks plain TDS to our relay, which holds the verified session.
        return {"encryption": "off" if found.mode in VERIFYING else FREETDS_ENCRYPTION[found.mode]}

    def tls_report(self, conn, found, endpoint, source):
        if found.mode in VERIFYING:
            return tls_report(found.mode, endpoint.relay.seen)
        if found.mode == "disable":
            return None  # FreeTDS's "off" still encrypts the login where the server can: neither plain nor encrypted
        # FreeTDS does not say what was negotiated: a pre-login of ours asks the server what it offers
        # (under request and require FreeTDS encrypts exactly when it does) and reads its certificate.
        try:
            return tls_report(found.mode, tds.handshake(endpoint, source.connection_timeout))
        except (OSError, ssl.SSLError):
            return None

    def failure(self, exc, source, target, endpoint, found):
        # FreeTDS reports every failed connection alike ("TDS server connection failed"): ask the server.
        if found.mode in ("prefer", "require"):
            try:
                offered = tds.handshake(endpoint, source.connection_timeout)
            except ssl.SSLError as error:
                return ConnectorError("SSL_ERROR", f"The TLS negotiation with {target.describe()} failed: "
                                                   f"{handshake_failure(error)}.")
            except (OSError, ConnectorError):
                offered = None
            if offered == {} and found.mode == "require":
                return ConnectorError("TLS_UNAVAILABLE", f"{target.describe()} offers no TLS, which tls.mode require demands.")
        return classify(exc, target)

    def limit_queries(self, conn, seconds):
        raw = getattr(conn.connection.dbapi_connection, "_conn", None)
        if raw is not None and hasattr(raw, "query_timeout"):
            raw.query_timeout = int(seconds)


class OracleConnector(SqlAlchemyConnector):
    type_name, label, default_port = "oracle", "Oracle", 1521
    schemes = ("oracle", "oracle+oracledb")
    drivername, driver_package = "oracle+oracledb", "oracledb"
    version_query = "SELECT banner FROM v$version WHERE ROWNUM = 1"
    queries = introspection.ORACLE
    relay = True  # the thin driver's tcp_connect_timeout does not cover the login exchange
    tls_honoured = True

    def url(self, target, endpoint):
        from sqlalchemy.engine import URL
        # The address goes in connect_args: a DSN SQLAlchemy builds would say PROTOCOL=tcp.
        return URL.create(self.drivername, username=target.username, password=target.password)

    def connect_args(self, source, target, endpoint):
        return {"host": endpoint.address, "port": endpoint.port, "service_name": target.database or "",
                "tcp_connect_timeout": float(source.connection_timeout)}

    def tls_options(self, found, endpoint):
        if found.mode not in ENCRYPTING:
            return {"protocol": "tcp"}
        # The thin driver's own check compares the certificate with the address it dialled (a
        # checked address or a tunnel's end): ours checks the source's host name instead.
        context = recording(client_context(found), found.seen, endpoint.hostname)
        return {"protocol": "tcps", "ssl_context": context, "ssl_server_dn_match": False}

    def tls_report(self, conn, found, endpoint, source):
        return tls_report(found.mode, found.seen if found.mode in ENCRYPTING else {})

    def failure(self, exc, source, target, endpoint, found):
        if found.mode in ENCRYPTING:
            error = driver_tls_error(exc, self.label, target.describe(), bool(found.seen))
            if error is not None:
                return error
        return classify(exc, target)

    def schema_filter(self, source, target):
        return (source.schema_name or "").upper() or None

    def limit_queries(self, conn, seconds):
        conn.connection.dbapi_connection.call_timeout = int(seconds) * 1000
