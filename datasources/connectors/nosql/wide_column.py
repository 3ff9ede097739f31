"""Apache Cassandra (cassandra-driver) and Amazon DynamoDB (boto3)."""
from datasources.connectors.aws import (
    AWS_KEYS,
    AWS_LABELS,
    AWS_SECRETS,
    botocore_quieted,
)
from datasources.connectors.base import (
    ConnectorError,
    DiscoveredColumn,
    DiscoveredTable,
    TestOutcome,
    driver_missing,
)
from datasources.connectors.nosql.base import NoSqlConnector
from datasources.connectors.targets import by_host_name
from datasources.connectors.tls_probe import driver_tls_error, probe
from datasources.security import network
from datasources.security.tls import (
    CLIENT_KEY,
    VERIFIED_ONLY,
    client_context,
    material,
    recording,
    tls_report,
)
from rivergen.milestones import milestone

SYSTEM_KEYSPACES = ("system", "system_auth", "system_schema", "system_distributed", "system_traces",
                    "system_views", "system_virtual_schema")


class CassandraConnector(NoSqlConnector):
    type_name, label, default_port = "cassandra", "Apache Cassandra", 9042
    schemes = ("cassandra",)
    tls_honoured = True

    def _call(self, source, target, endpoint, work, timeout=None, seen=None):
        seen = {} if seen is None else seen
        with material(self.tls_of(source.tls), target.credentials.get(CLIENT_KEY)) as found:
            context = None
            if found.mode != "disable":
                # The source's host name is checked whatever address is dialled; the driver's own
                # check would compare the address. A probe first: the driver's "no host available"
                # hides why a handshake failed.
                context = recording(client_context(found), seen, endpoint.hostname)
                probe(endpoint, context, source.connection_timeout, self.label)
        return self._session(source, target, endpoint, work, timeout, context, seen)

    def _session(self, source, target, endpoint, work, timeout, context, seen):
        try:
            from cassandra.auth import PlainTextAuthProvider
            from cassandra.cluster import Cluster, NoHostAvailable
            from cassandra.policies import WhiteListRoundRobinPolicy
        except ImportError:
            raise driver_missing("cassandra-driver") from None
        auth = PlainTextAuthProvider(target.username, target.password or "") if target.username else None
        # Only the checked address: the driver must not wander to peers the policy never saw.
        cluster = Cluster(
            [endpoint.address], port=endpoint.port, auth_provider=auth,
            load_balancing_policy=WhiteListRoundRobinPolicy([endpoint.address]),
            connect_timeout=source.connection_timeout, control_connection_timeout=source.connection_timeout,
            ssl_context=context,
        )
        try:
            session = cluster.connect()
            session.default_timeout = timeout or source.query_timeout
            return work(session)
        except NoHostAvailable as exc:
            causes = list((exc.errors or {}).values())
            failure = driver_tls_error(causes[0], self.label, target.describe(), bool(seen)) if context and causes else None
            if failure is not None:
                raise failure from None
            raise _cassandra_error(exc, target) from None
        except Exception as exc:  # cassandra.OperationTimedOut and driver errors
            code = "TIMEOUT" if "timed out" in str(exc).lower() else "CONNECTION_FAILED"
            raise ConnectorError(code, f"Cassandra at {target.describe()} failed ({type(exc).__name__}).") from None
        finally:
            cluster.shutdown()

    def check(self, source, target, endpoint):
        def version(session):
            milestone("authenticate")  # the driver logs in as it connects
            return session.execute("SELECT release_version FROM system.local").one()

        seen = {}
        row = self._call(source, target, endpoint, version, seen=seen)
        return TestOutcome(server_version=str(row[0]) if row else None,
                           tls=tls_report(self.tls_of(source.tls)["mode"], seen))

    def read_schema(self, source, target, endpoint):
        keyspace = source.schema_name or target.database
        return self._call(source, target, endpoint, lambda session: cassandra_tables(session, keyspace))


def cassandra_tables(session, keyspace):
    where, params = ("WHERE keyspace_name = %s", (keyspace,)) if keyspace else ("", ())
    tables = {}
    for kind, query in (("table", "system_schema.tables"), ("view", "system_schema.views")):
        name_column = "table_name" if kind == "table" else "view_name"
        for row in session.execute(f"SELECT keyspace_name, {name_column} FROM {query} {where}", params):
            if row[0] not in SYSTEM_KEYSPACES:
                tables[(row[0], row[1])] = DiscoveredTable(schema=row[0], name=row[1], kind=kind)
    rank = {"partition_key": 0, "clustering": 1}
    rows = session.execute(
        f"SELECT keyspace_name, table_name, column_name, type, kind, position FROM system_schema.columns {where}", params)
    for ks, table_name, column, data_type, kind, position in sorted(
            rows, key=lambda r: (r[0], r[1], rank.get(r[4], 2), r[5] if r[5] >= 0 else 0, r[2])):
        table = tables.get((ks, table_name))
        if table is not None:
            table.columns.append(DiscoveredColumn(
                name=column, data_type=data_type, nullable=kind not in rank, primary_key=kind in rank,
                position=len(table.columns) + 1,
            ))
    return sorted(tables.values(), key=lambda t: (t.schema, t.name))


def _cassandra_error(exc, target):
    causes = list((exc.errors or {}).values())
    names = " ".join(type(c).__name__ for c in causes) + " " + " ".join(str(c) for c in causes).lower()
    if "AuthenticationFailed" in names or "authentication" in names:
        return ConnectorError("AUTH_FAILED", f"Cassandra refused the login of {target.username!r}.")
    if "timed out" in names or "OperationTimedOut" in names or "timeout" in names:
        return ConnectorError("TIMEOUT", f"Cassandra at {target.describe()} did not answer in time.")
    return ConnectorError("HOST_UNREACHABLE", f"Cannot reach Cassandra at {target.describe()}.")


class DynamoDbConnector(NoSqlConnector):
    """Discovery is ListTables then one DescribeTable per table: DynamoDB has no bulk describe call."""

    type_name, label, default_port = "dynamodb", "Amazon DynamoDB", 443
    tls_modes, tls_default = VERIFIED_ONLY, "verify-full"
    schemes = ("http", "https", "dynamodb")
    credential_keys, secret_keys, credential_labels = AWS_KEYS, AWS_SECRETS, AWS_LABELS
    form_credentials = ()

    def reach(self, source, work):
        return by_host_name(self, source, work,
                            tunnel_refusal="DynamoDB is reached over HTTPS; SSH tunnels are not supported.")

    def _client(self, source, target, read_timeout):
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise driver_missing("boto3") from None
        creds = target.credentials
        if not (creds.get("aws_access_key_id") and creds.get("aws_secret_access_key")):
            # Never fall back to the server's own AWS identity (environment, ~/.aws, instance role).
            raise ConnectorError("AUTH_FAILED", "credentials.aws_access_key_id and aws_secret_access_key are required.")
        region = creds.get("region") or "us-east-1"
        endpoint = self._endpoint(source, target, region)
        parts, port = network.split_url(endpoint)  # a host field such as "x[k" makes no URL
        network.check_unpinned_client(parts.hostname, self.label, ("amazonaws.com",))
        network.open_socket(network.checked_address(parts.hostname, port), port, source.connection_timeout).close()
        session = boto3.session.Session(
            aws_access_key_id=creds["aws_access_key_id"], aws_secret_access_key=creds["aws_secret_access_key"],
            aws_session_token=creds.get("aws_session_token"), region_name=region,
        )
        config = Config(connect_timeout=source.connection_timeout, read_timeout=read_timeout,
                        retries={"max_attempts": 1, "mode": "standard"})
        client = session.client("dynamodb", endpoint_url=endpoint, config=config)
        botocore_quieted()
        return client

    @staticmethod
    def _endpoint(source, target, region):
        if source.connection_string and target.scheme in ("http", "https"):
            return f"{target.scheme}://{target.host}:{target.port}"
        if source.host:
            return f"{'http' if target.port == 80 else 'https'}://{source.host}:{target.port}"
        return f"https://dynamodb.{region}.amazonaws.com"

    def _call(self, source, target, endpoint, work, timeout=None):
        client = self._client(source, target, timeout or source.connection_timeout)
        try:
            from botocore import exceptions as errors
            return work(client)
        except errors.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("UnrecognizedClientException", "InvalidSignatureException", "AccessDeniedException",
                        "ExpiredTokenException", "MissingAuthenticationTokenException"):
                raise ConnectorError("AUTH_FAILED", "AWS refused the access keys.") from None
            raise ConnectorError("CONNECTION_FAILED", f"DynamoDB refused the request ({code}).") from None
        except (errors.ConnectTimeoutError, errors.ReadTimeoutError):
            raise ConnectorError("TIMEOUT", f"DynamoDB at {target.describe()} did not answer in time.") from None
        except errors.BotoCoreError:
            raise ConnectorError("HOST_UNREACHABLE", f"Cannot reach DynamoDB at {target.describe()}.") from None

    def check(self, source, target, endpoint):
        self._call(source, target, endpoint, lambda client: client.list_tables(Limit=1))
        return TestOutcome(server_version="DynamoDB API 2012-08-10")

    def read_schema(self, source, target, endpoint):
        def read(client):
            names = []
            for page in client.get_paginator("list_tables").paginate():
                names += page.get("TableNames", [])
            return [dynamodb_table(client.describe_table(TableName=name)["Table"]) for name in sorted(names)]
        return self._call(source, target, endpoint, read, source.query_timeout)


def dynamodb_table(description) -> DiscoveredTable:
    types = {a["AttributeName"]: a["AttributeType"] for a in description.get("AttributeDefinitions", [])}
    keys = [k["AttributeName"] for k in description.get("KeySchema", [])]
    ordered = keys + sorted(set(types) - set(keys))
    columns = [
        DiscoveredColumn(name=name, data_type={"S": "string", "N": "number", "B": "binary"}.get(types.get(name), "any"),
                         nullable=name not in keys, primary_key=name in keys, position=i)
        for i, name in enumerate(ordered, start=1)
    ]
    return DiscoveredTable(schema=None, name=description["TableName"], columns=columns)
