"""Document stores, key-value stores and search engines."""
from datasources.connectors import http, network
from datasources.connectors.base import (
    DATABASE_FIELDS, Connector, ConnectorError, DiscoveredColumn, DiscoveredTable, TestOutcome,
    driver_missing, run_within,
)
from datasources.connectors.ssh import open_endpoint
from datasources.connectors.targets import target_of

AWS_KEYS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "region")
AWS_SECRETS = ("aws_secret_access_key", "aws_session_token")
SAMPLE_SIZE = 100  # documents per collection read to infer its fields


class NoSqlConnector(Connector):
    family = "nosql"
    required = DATABASE_FIELDS

    def test(self, source) -> TestOutcome:
        return run_within(source.connection_timeout, self._run, source, self._test)

    def discover(self, source):
        return run_within(source.connection_timeout + source.query_timeout, self._run, source, self._discover)

    def _run(self, source, work):
        target = target_of(source, self.default_port)
        with open_endpoint(source, target, source.connection_timeout) as endpoint:
            return work(source, target, endpoint)


def fields_of(documents) -> list[DiscoveredColumn]:
    """Top-level fields of sampled documents, in first-seen order, typed by their first value."""
    seen = {}
    for document in documents:
        for key, value in document.items():
            seen.setdefault(key, type(value).__name__)
    return [
        DiscoveredColumn(name=name, data_type=kind, nullable=name != "_id", primary_key=name == "_id", position=i)
        for i, (name, kind) in enumerate(seen.items(), start=1)
    ]


class MongoConnector(NoSqlConnector):
    type_name, label, default_port = "mongodb", "MongoDB", 27017
    schemes = ("mongodb", "mongodb+srv")

    def client(self, source, target, endpoint):
        try:
            import pymongo
        except ImportError:
            raise driver_missing("pymongo") from None
        ms = source.connection_timeout * 1000
        return pymongo.MongoClient(
            host=endpoint.address, port=endpoint.port, username=target.username, password=target.password,
            authSource=target.options.get("authSource") or target.database or "admin",
            directConnection=True, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms,
            socketTimeoutMS=source.query_timeout * 1000, tls=target.options.get("tls") == "true",
            appname="rivergen",
        )

    def _call(self, source, target, endpoint, work):
        client = self.client(source, target, endpoint)
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

    def _test(self, source, target, endpoint):
        info = self._call(source, target, endpoint, lambda client: client.server_info())
        return TestOutcome(server_version=str(info.get("version")))

    def _discover(self, source, target, endpoint):
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

    def _run(self, source, work):
        if source.use_ssh_tunnel:
            raise ConnectorError("UNSUPPORTED", "Elasticsearch sources do not support SSH tunnels yet.")
        return work(source, target_of(source, self.default_port), None)

    def _get(self, source, target, path, timeout):
        base = http.base_url_of(source, self.default_port)
        headers = {"Accept": "application/json"}
        auth = None
        if target.credentials.get("api_key"):
            headers["Authorization"] = f"ApiKey {target.credentials['api_key']}"
        elif target.username:
            auth = (target.username, target.password or "")
        response = http.get(base, path, headers, timeout, auth=auth)
        http.check_status(response, f"Elasticsearch at {base.host}")
        try:
            return response.json()
        except ValueError:
            raise ConnectorError("CONNECTION_FAILED", f"{base.host} did not answer with JSON.") from None

    def _test(self, source, target, endpoint):
        root = self._get(source, target, "/", source.connection_timeout)
        version = (root.get("version") or {}).get("number") if isinstance(root, dict) else None
        if not version:
            raise ConnectorError("CONNECTION_FAILED", "The server does not answer like Elasticsearch.")
        return TestOutcome(server_version=str(version))

    def _discover(self, source, target, endpoint):
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


from datasources.connectors.keyvalue import CassandraConnector, DynamoDbConnector, RedisConnector  # noqa: E402

__all__ = [
    "AWS_KEYS", "AWS_SECRETS", "MongoConnector", "ElasticsearchConnector", "RedisConnector",
    "CassandraConnector", "DynamoDbConnector",
]
