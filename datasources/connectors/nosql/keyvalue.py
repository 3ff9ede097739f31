"""Key-value stores: Redis.

Redis has no schema, so discovery scans a bounded sample of keys (``SAMPLE_KEYS``)
and reports each group of keys that share a type and a pattern (``user:*:profile``:
segments of digits or long hex ids become ``*``) as a "table" whose columns are
``key`` plus, for hashes, the fields of the first key of the group.
"""
import re

from datasources.connectors.base import (
    ConnectorError,
    DiscoveredColumn,
    DiscoveredTable,
    TestOutcome,
    driver_missing,
)
from datasources.connectors.nosql.base import NoSqlConnector
from datasources.security import network
from datasources.security.tls import (
    CLIENT_KEY,
    client_context,
    handshake_failure,
    material,
    tls_report,
)
from rivergen.milestones import milestone

SAMPLE_KEYS = 1000
_VARIABLE = re.compile(r"^(\d+|[0-9a-fA-F-]{8,})$")
_REDIS_COLUMNS = {"list": ["value"], "set": ["member"], "zset": ["member", "score"], "string": ["value"]}


def key_pattern(key: str) -> str:
    return ":".join("*" if _VARIABLE.match(part) else part for part in key.split(":"))


class RedisConnector(NoSqlConnector):
    type_name, label, default_port = "redis", "Redis", 6379
    schemes = ("redis", "rediss")
    tls_honoured = True

    def tls_settings(self, source, target) -> dict:
        if not source.tls and target.scheme == "rediss":  # a connection string's rediss:// is verify-full
            return {"mode": "verify-full", "ca_certificate": None, "client_certificate": None}
        return self.tls_of(source.tls)

    def client(self, source, target, endpoint, timeout, found=None, seen=None):
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError:
            raise driver_missing("redis") from None
        database = target.database or "0"
        if not database.isdigit():
            raise ConnectorError("DATABASE_NOT_FOUND", "Redis databases are numbered: database_name must be 0, 1, 2...")
        options = dict(
            host=endpoint.address, port=endpoint.port, db=int(database), username=target.username,
            password=target.password, socket_connect_timeout=source.connection_timeout,
            socket_timeout=timeout, retry=Retry(NoBackoff(), 0),
        )
        if found is None or found.mode == "disable":
            return redis.Redis(**options)
        return redis.Redis(connection_pool=redis.ConnectionPool(
            connection_class=tls_connection_class(redis, client_context(found), endpoint.hostname, seen,
                                                  source.connection_timeout / 2), **options))

    def _call(self, source, target, endpoint, work, timeout=None, seen=None):
        seen = {} if seen is None else seen
        with material(self.tls_settings(source, target), target.credentials.get(CLIENT_KEY)) as found:
            client = self.client(source, target, endpoint, timeout or source.connection_timeout, found, seen)
            try:
                return self._guarded(client, target, work)
            except ConnectorError as exc:
                # A plain Redis reads a ClientHello as an unfinished inline command and waits: the
                # handshake times out. If the port answers a plain PING, the server has no TLS there.
                if exc.code == "TIMEOUT" and seen.get("handshake") == "stalled" and speaks_plain_redis(endpoint, source.connection_timeout / 4):
                    raise ConnectorError("TLS_UNAVAILABLE", f"Redis at {target.describe()} answers without TLS on this port; "
                                                            "the source's tls.mode demands TLS.") from None
                raise

    def _guarded(self, client, target, work):
        import redis.exceptions as errors
        try:
            return work(client)
        except (errors.AuthenticationError, errors.AuthorizationError):
            raise ConnectorError("AUTH_FAILED", f"Redis refused the login at {target.describe()}.") from None
        except errors.TimeoutError:
            raise ConnectorError("TIMEOUT", f"Redis at {target.describe()} did not answer in time.") from None
        except errors.ResponseError as exc:
            text = str(exc).lower()
            if "wrongpass" in text or "noauth" in text or "password" in text:
                raise ConnectorError("AUTH_FAILED", f"Redis refused the login at {target.describe()}.") from None
            if "db index" in text:
                raise ConnectorError("DATABASE_NOT_FOUND", f"Redis has no database {target.database}.") from None
            raise ConnectorError("CONNECTION_FAILED", "Redis refused a command.") from None
        except errors.ConnectionError as exc:
            if "ssl" in str(exc).lower() or "certificate" in str(exc).lower():
                raise ConnectorError("SSL_ERROR", f"The TLS negotiation with Redis at {target.describe()} failed: "
                                                  f"{handshake_failure(exc)}.") from None
            code = "TIMEOUT" if "timeout" in str(exc).lower() else "HOST_UNREACHABLE"
            raise ConnectorError(code, f"Cannot reach Redis at {target.describe()}.") from None
        except errors.InvalidResponse:
            raise ConnectorError("CONNECTION_FAILED", f"{target.describe()} does not answer like Redis.") from None
        finally:
            client.close()

    def check(self, source, target, endpoint):
        def ping(client):
            client.ping()
            milestone("authenticate")
            return client.info("server").get("redis_version")
        seen = {}
        version = str(self._call(source, target, endpoint, ping, seen=seen))
        mode = (self.tls_settings(source, target) or {}).get("mode", "disable")
        return TestOutcome(server_version=version, tls=tls_report(mode, seen))

    def read_schema(self, source, target, endpoint):
        schema = f"db{target.database or 0}"
        # The server must answer a PING within connection_timeout before the scan gets query_timeout.
        self._call(source, target, endpoint, lambda client: client.ping())
        return self._call(source, target, endpoint, lambda client: redis_key_groups(client, schema),
                          source.query_timeout)


def redis_key_groups(client, schema) -> list[DiscoveredTable]:
    keys = []
    for key in client.scan_iter(count=500):
        keys.append(key)
        if len(keys) >= SAMPLE_KEYS:
            break
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.type(key)
    groups = {}
    for key, kind in zip(keys, pipe.execute()):
        kind = kind.decode() if isinstance(kind, bytes) else str(kind)
        text = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
        groups.setdefault((key_pattern(text), kind), key)
    tables = []
    for (pattern, kind), first_key in sorted(groups.items()):
        if kind == "hash":
            fields = sorted(f.decode("utf-8", "replace") for f in client.hkeys(first_key))
        else:
            fields = _REDIS_COLUMNS.get(kind, ["value"])
        columns = [DiscoveredColumn(name="key", data_type="string", nullable=False, primary_key=True, position=1)]
        columns += [DiscoveredColumn(name=f, data_type=kind, position=i) for i, f in enumerate(fields, start=2)]
        tables.append(DiscoveredTable(schema=schema, name=pattern, columns=columns))
    return tables



def tls_connection_class(redis, context, hostname, seen, handshake_timeout):
    """redis-py's TLS connection with our context, checking the source's host name (not the
    address dialled: a checked address or a tunnel's end); it notes what the handshake gave."""

    class Connection(redis.SSLConnection):
        def _wrap_socket_with_ssl(self, sock):
            # Half the budget for the handshake, so a stalled one leaves time to ask why.
            kept, _ = sock.gettimeout(), sock.settimeout(handshake_timeout)
            try:
                secured = context.wrap_socket(sock, server_hostname=hostname)
            except TimeoutError:
                seen["handshake"] = "stalled"
                raise
            secured.settimeout(kept)
            seen.update(protocol=secured.version(), der=secured.getpeercert(binary_form=True))
            return secured

    return Connection


def speaks_plain_redis(endpoint, timeout: float) -> bool:
    """True when the port answers a plain-text PING the way Redis does (a reply, an error, NOAUTH)."""
    try:
        sock = network.open_socket(endpoint.address, endpoint.port, timeout)
    except ConnectorError:
        return False
    try:
        sock.sendall(b"PING\r\n")
        return sock.recv(64)[:1] in (b"+", b"-")
    except OSError:
        return False
    finally:
        sock.close()
