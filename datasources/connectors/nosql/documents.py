"""Document stores and search engines: MongoDB and Elasticsearch."""
from datasources.connectors import web
from datasources.connectors.base import (
    LOGIN,
    ConnectorError,
    DiscoveredColumn,
    DiscoveredTable,
    TestOutcome,
    driver_missing,
)
from datasources.connectors.nosql.base import NoSqlConnector, fields_of
from datasources.connectors.targets import by_host_name
from datasources.connectors.tls_probe import driver_tls_error, probe
from datasources.security import network
from datasources.security.tls import (
    CLIENT_KEY,
    client_context,
    material,
    recording,
    tls_report,
)
from rivergen.milestones import milestone

SAMPLE_SIZE = 100  # documents per collection read to infer its fields


class MongoConnector(NoSqlConnector):
    type_name, label, default_port = "mongodb", "MongoDB", 27017
    schemes = ("mongodb", "mongodb+srv")

    tls_honoured = True

    def tls_settings(self, source, target) -> dict:
        if not source.tls and target.options.get("tls", target.options.get("ssl")) == "true":
            # A connection string's tls=true is pymongo's default TLS: verified, host name checked.
            return {"mode": "verify-full", "ca_certificate": None, "client_certificate": None}
        return self.tls_of(source.tls)

    def client(self, source, target, endpoint, timeout, context=None):
        try:
            import pymongo
        except ImportError:
            raise driver_missing("pymongo") from None
        ms = source.connection_timeout * 1000
        # With TLS, pymongo builds a context of its own from these options; ours replaces it below.
        tls = {"tls": True, "tlsAllowInvalidCertificates": True, "tlsAllowInvalidHostnames": True} if context else {}
        client = pymongo.MongoClient(
            host=endpoint.address, port=endpoint.port, username=target.username, password=target.password,
            authSource=target.options.get("authSource") or target.database or "admin",
            directConnection=True, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms,
            socketTimeoutMS=timeout * 1000, appname="rivergen", connect=False, **tls,
        )
        if context is not None:
            with_context(client, context)
        return client

    def _call(self, source, target, endpoint, work, timeout=None, seen=None):
        try:
            import pymongo.errors as errors
        except ImportError:
            raise driver_missing("pymongo") from None
        seen = {} if seen is None else seen
        with material(self.tls_settings(source, target), target.credentials.get(CLIENT_KEY)) as found:
            context = None
            if found.mode != "disable":
                # Verified with the source's CA and host name (not the address dialled), in memory.
                context = recording(client_context(found), seen, endpoint.hostname)
            # pymongo retries a refused port, or a failed handshake, until server selection gives up;
            # one probe answers at once (before the client exists: its monitor threads would
            # otherwise outlive the refusal), and says why a handshake failed.
            if context is None:
                network.open_socket(endpoint.address, endpoint.port, source.connection_timeout).close()
            else:
                probe(endpoint, context, source.connection_timeout, self.label)
            client = self.client(source, target, endpoint, timeout or source.query_timeout, context)
        try:
            return work(client)
        except errors.OperationFailure as exc:
            if exc.code in (13, 18):
                raise ConnectorError("AUTH_FAILED", f"MongoDB refused the login of {target.username!r}.") from None
            raise ConnectorError("CONNECTION_FAILED", f"MongoDB refused the operation (code {exc.code}).") from None
        except errors.PyMongoError as exc:
            text = str(exc).lower()
            failure = driver_tls_error(exc, self.label, target.describe(), bool(seen)) if context else None
            if failure is not None:
                raise failure from None
            refused = "connection refused" in text
            code = "TIMEOUT" if not refused and ("timed out" in text or "timeout" in text) else "HOST_UNREACHABLE"
            raise ConnectorError(code, f"Cannot reach MongoDB at {target.describe()}.") from None
        finally:
            client.close()

    def check(self, source, target, endpoint):
        seen = {}
        info = self._call(source, target, endpoint, lambda client: client.server_info(), seen=seen)
        milestone("authenticate")
        mode = self.tls_settings(source, target)["mode"]
        return TestOutcome(server_version=str(info.get("version")), tls=tls_report(mode, seen))

    def read_schema(self, source, target, endpoint):
        def read(client):
            database = client[target.database]
            tables = []
            for name in sorted(database.list_collection_names()):
                documents = database[name].find({}, limit=SAMPLE_SIZE)
                tables.append(DiscoveredTable(schema=target.database, name=name, columns=fields_of(documents)))
            return tables
        return self._call(source, target, endpoint, read)


def with_context(client, context) -> None:
    """Have ``client`` (not yet connected) wrap its sockets with ``context``: pymongo takes no
    ``SSLContext`` of the caller's, and its own would check the host name against the address dialled."""
    options = client._options.pool_options
    if not hasattr(options, "_PoolOptions__ssl_context"):  # pymongo is pinned; a new one must be looked at
        raise ConnectorError("UNSUPPORTED", "This pymongo version cannot be given the source's TLS settings.")
    options._PoolOptions__ssl_context = context
    options._PoolOptions__tls_allow_invalid_hostnames = True  # checked by ``context`` itself


class ElasticsearchConnector(NoSqlConnector):
    """Spoken to over HTTP(S) (httpx): GET / for the version, GET /_mapping for the indices."""

    type_name, label, default_port = "elasticsearch", "Elasticsearch", 9200
    schemes = ("http", "https", "elasticsearch")
    form_credentials = (*LOGIN, "api_key")
    # As for HTTP APIs: an https URL is verified by default; tls.mode disable is plain http.
    tls_default, tls_honoured = "verify-full", True

    def reach(self, source, work):
        def at_one_address(source, target, _endpoint):
            # One lookup for the whole run: a discovery's second request goes where its first went.
            base = self.base_url(source)
            return work(source, target, network.checked_address(base.host, base.port))
        return by_host_name(self, source, at_one_address,
                            tunnel_refusal="Elasticsearch sources do not support SSH tunnels yet.")

    def base_url(self, source):
        base = web.base_url_of(source, self.default_port)
        mode = (source.tls or {}).get("mode")
        if mode == "disable" and not source.connection_string:
            base.scheme = "http"  # host and port with tls.mode disable: plain http on any port
        if mode and (mode == "disable") != (base.scheme == "http"):
            raise ConnectorError("TLS_UNAVAILABLE" if base.scheme == "http" else "UNSUPPORTED",
                                 f"tls.mode {mode} does not fit the {base.scheme}:// URL: plain HTTP is tls.mode "
                                 "disable, and an https URL is always encrypted (require skips verification).")
        return base

    def tls_settings(self, source, base) -> dict:
        if source.tls:
            return source.tls
        # Omitted: what the URL says (https verified against the system's trust store, http plain).
        return {"mode": "verify-full" if base.scheme == "https" else "disable",
                "ca_certificate": None, "client_certificate": None}

    def _get(self, source, target, address, path, timeout, seen=None):
        base = self.base_url(source)
        headers = {"Accept": "application/json"}
        auth = None
        if target.credentials.get("api_key"):
            headers["Authorization"] = f"ApiKey {target.credentials['api_key']}"
        elif target.username:
            auth = (target.username, target.password or "")
        with material(self.tls_settings(source, base), target.credentials.get(CLIENT_KEY)) as found:
            verify = recording(client_context(found), {} if seen is None else seen) if base.scheme == "https" else True
            response = web.get(base, path, headers, timeout, auth=auth, address=address, verify=verify)
        web.check_status(response, f"Elasticsearch at {base.host}")
        try:
            return response.json()
        except ValueError:
            raise ConnectorError("CONNECTION_FAILED", f"{base.host} did not answer with JSON.") from None

    def check(self, source, target, endpoint):
        seen = {}
        root = self._get(source, target, endpoint, "/", source.connection_timeout, seen)
        milestone("authenticate")
        version = (root.get("version") or {}).get("number") if isinstance(root, dict) else None
        if not version:
            raise ConnectorError("CONNECTION_FAILED", "The server does not answer like Elasticsearch.")
        mode = self.tls_settings(source, self.base_url(source))["mode"]
        return TestOutcome(server_version=str(version), tls=tls_report(mode, seen))

    def read_schema(self, source, target, endpoint):
        self.check(source, target, endpoint)  # a server must answer within connection_timeout first
        mappings = self._get(source, target, endpoint, "/_mapping", source.query_timeout)
        tables = []
        for index, body in sorted(mappings.items()):
            properties = ((body or {}).get("mappings") or {}).get("properties") or {}
            columns = [
                DiscoveredColumn(name=name, data_type=spec.get("type", "object"), position=i)
                for i, (name, spec) in enumerate(properties.items(), start=1)
            ]
            tables.append(DiscoveredTable(schema=None, name=index, columns=columns))
        return tables

