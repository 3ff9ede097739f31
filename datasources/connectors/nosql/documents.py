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
from datasources.security import network

SAMPLE_SIZE = 100  # documents per collection read to infer its fields


class MongoConnector(NoSqlConnector):
    type_name, label, default_port = "mongodb", "MongoDB", 27017
    schemes = ("mongodb", "mongodb+srv")

    def client(self, source, target, endpoint, timeout):
        try:
            import pymongo
        except ImportError:
            raise driver_missing("pymongo") from None
        ms = source.connection_timeout * 1000
        return pymongo.MongoClient(
            host=endpoint.address, port=endpoint.port, username=target.username, password=target.password,
            authSource=target.options.get("authSource") or target.database or "admin",
            directConnection=True, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms,
            socketTimeoutMS=timeout * 1000, tls=target.options.get("tls") == "true",
            appname="rivergen",
        )

    def _call(self, source, target, endpoint, work, timeout=None):
        client = self.client(source, target, endpoint, timeout or source.query_timeout)
        import pymongo.errors as errors
        # pymongo retries a refused port until server selection gives up; one probe answers at once.
        network.open_socket(endpoint.address, endpoint.port, source.connection_timeout).close()
        try:
            return work(client)
        except errors.OperationFailure as exc:
            if exc.code in (13, 18):
                raise ConnectorError("AUTH_FAILED", f"MongoDB refused the login of {target.username!r}.") from None
            raise ConnectorError("CONNECTION_FAILED", f"MongoDB refused the operation (code {exc.code}).") from None
        except errors.PyMongoError as exc:
            text = str(exc).lower()
            refused = "connection refused" in text
            code = "TIMEOUT" if not refused and ("timed out" in text or "timeout" in text) else "HOST_UNREACHABLE"
            raise ConnectorError(code, f"Cannot reach MongoDB at {target.describe()}.") from None
        finally:
            client.close()

    def check(self, source, target, endpoint):
        info = self._call(source, target, endpoint, lambda client: client.server_info())
        return TestOutcome(server_version=str(info.get("version")))

    def read_schema(self, source, target, endpoint):
        def read(client):
            database = client[target.database]
            tables = []
            for name in sorted(database.list_collection_names()):
                documents = database[name].find({}, limit=SAMPLE_SIZE)
                tables.append(DiscoveredTable(schema=target.database, name=name, columns=fields_of(documents)))
            return tables
        return self._call(source, target, endpoint, read)


class ElasticsearchConnector(NoSqlConnector):
    """Spoken to over plain HTTP (httpx): GET / for the version, GET /_mapping for the indices."""

    type_name, label, default_port = "elasticsearch", "Elasticsearch", 9200
    schemes = ("http", "https", "elasticsearch")
    form_credentials = (*LOGIN, "api_key")

    def reach(self, source, work):
        return by_host_name(self, source, work, tunnel_refusal="Elasticsearch sources do not support SSH tunnels yet.")

    def _get(self, source, target, path, timeout):
        base = web.base_url_of(source, self.default_port)
        headers = {"Accept": "application/json"}
        auth = None
        if target.credentials.get("api_key"):
            headers["Authorization"] = f"ApiKey {target.credentials['api_key']}"
        elif target.username:
            auth = (target.username, target.password or "")
        response = web.get(base, path, headers, timeout, auth=auth)
        web.check_status(response, f"Elasticsearch at {base.host}")
        try:
            return response.json()
        except ValueError:
            raise ConnectorError("CONNECTION_FAILED", f"{base.host} did not answer with JSON.") from None

    def check(self, source, target, endpoint):
        root = self._get(source, target, "/", source.connection_timeout)
        version = (root.get("version") or {}).get("number") if isinstance(root, dict) else None
        if not version:
            raise ConnectorError("CONNECTION_FAILED", "The server does not answer like Elasticsearch.")
        return TestOutcome(server_version=str(version))

    def read_schema(self, source, target, endpoint):
        self.check(source, target, endpoint)  # a server must answer within connection_timeout first
        mappings = self._get(source, target, "/_mapping", source.query_timeout)
        tables = []
        for index, body in sorted(mappings.items()):
            properties = ((body or {}).get("mappings") or {}).get("properties") or {}
            columns = [
                DiscoveredColumn(name=name, data_type=spec.get("type", "object"), position=i)
                for i, (name, spec) in enumerate(properties.items(), start=1)
            ]
            tables.append(DiscoveredTable(schema=None, name=index, columns=columns))
        return tables

