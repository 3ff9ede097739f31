"""Cloud warehouses reached by HTTPS through their official clients: Snowflake and BigQuery.

Their clients connect by host name (TLS needs it), so the host is checked against the
network policy and probed with one TCP connection to the checked address first: a
refused or silent port fails cleanly before the client starts its own retries. The
client resolves the name again, so under the ``public`` policy only the provider's own
domains are accepted (``network.check_unpinned_client``).
"""
import json

from datasources.connectors.base import (
    LOGIN,
    ConnectorError,
    TestOutcome,
    driver_missing,
)
from datasources.connectors.sql import introspection
from datasources.connectors.sql.engines import SqlConnector
from datasources.connectors.sql.errors import classify
from datasources.connectors.targets import by_host_name
from datasources.security import network
from datasources.security.tls import VERIFIED_ONLY


def probe(target, timeout, label, provider_domains):
    network.check_unpinned_client(target.host, label, provider_domains)
    address = network.checked_address(target.host, target.port)
    network.open_socket(address, target.port, timeout).close()


class SnowflakeConnector(SqlConnector):
    type_name, label, default_port = "snowflake", "Snowflake", 443
    tls_modes, tls_default = VERIFIED_ONLY, "verify-full"
    schemes = ("snowflake",)
    form_credentials = (*LOGIN, "warehouse", "role")

    def reach(self, source, work):
        return by_host_name(self, source, work)

    def connect(self, source, target):
        try:
            import snowflake.connector
        except ImportError:
            raise driver_missing("snowflake-connector-python") from None
        if source.use_ssh_tunnel:
            raise ConnectorError("UNSUPPORTED", "Snowflake is reached over HTTPS; SSH tunnels are not supported.")
        probe(target, source.connection_timeout, self.label, ("snowflakecomputing.com",))
        account = target.host.split(".snowflakecomputing.", 1)[0]
        try:
            return snowflake.connector.connect(
                account=account, host=target.host, port=target.port, protocol="https",
                user=target.username, password=target.password, database=target.database,
                schema=source.schema_name, warehouse=target.credentials.get("warehouse"),
                role=target.credentials.get("role"), login_timeout=source.connection_timeout,
                query_timeout=source.query_timeout, client_session_keep_alive=False,
            )
        except snowflake.connector.errors.Error as exc:
            raise classify(exc, target) from None

    def check(self, source, target, endpoint):
        conn = self.connect(source, target)
        try:
            return TestOutcome(server_version=str(conn.cursor().execute("SELECT CURRENT_VERSION()").fetchone()[0]))
        finally:
            conn.close()

    def read_schema(self, source, target, endpoint):
        conn = self.connect(source, target)
        schema = source.schema_name or None
        where = "table_schema <> 'INFORMATION_SCHEMA'" + (" AND table_schema = %(schema)s" if schema else "")
        try:
            cursor = conn.cursor()
            relations = cursor.execute(
                f"SELECT table_schema, table_name, table_type = 'VIEW' FROM information_schema.tables WHERE {where}",
                {"schema": schema}).fetchall()
            columns = cursor.execute(
                f"SELECT table_schema, table_name, column_name, data_type, is_nullable = 'YES' "
                f"FROM information_schema.columns WHERE {where} ORDER BY 1, 2, ordinal_position",
                {"schema": schema}).fetchall()
            keys = [(r[3], r[4], r[5]) for r in cursor.execute("SHOW PRIMARY KEYS IN DATABASE").fetchall()]
            return introspection.assemble(relations, columns, keys)
        finally:
            conn.close()


class BigQueryConnector(SqlConnector):
    type_name, label, default_port = "bigquery", "Google BigQuery", 443
    tls_modes, tls_default = VERIFIED_ONLY, "verify-full"
    schemes = ("bigquery",)
    credential_keys = secret_keys = ("service_account_json",)
    credential_labels = {"service_account_json": "Service account JSON"}
    form_credentials = ()

    def reach(self, source, work):
        return by_host_name(self, source, work)

    def client(self, source, target):
        try:
            from google.cloud import bigquery
            from google.oauth2 import service_account
        except ImportError:
            raise driver_missing("google-cloud-bigquery") from None
        info = _service_account(target.credentials)
        probe(target, source.connection_timeout, self.label, ("googleapis.com",))
        try:
            credentials = service_account.Credentials.from_service_account_info(info)
        except (ValueError, KeyError):
            raise ConnectorError("AUTH_FAILED", "credentials.service_account_json is not a usable service account key.") from None
        endpoint = None if target.host == "bigquery.googleapis.com" else f"https://{target.host}:{target.port}"
        return bigquery.Client(
            project=target.database, credentials=credentials,
            client_options={"api_endpoint": endpoint} if endpoint else None,
        )

    def check(self, source, target, endpoint):
        client = self.client(source, target)
        try:
            list(client.list_datasets(max_results=1, timeout=source.connection_timeout))
        except Exception as exc:  # google.api_core / google.auth errors
            raise classify(exc, target) from None
        return TestOutcome(server_version="BigQuery API v2")

    def read_schema(self, source, target, endpoint):
        client = self.client(source, target)
        tables = []
        try:
            datasets = [source.schema_name] if source.schema_name else [d.dataset_id for d in client.list_datasets()]
            for dataset in datasets:  # one query per dataset (INFORMATION_SCHEMA is per dataset), not per table
                rows = client.query(
                    "SELECT c.table_schema, c.table_name, c.column_name, c.data_type, c.is_nullable = 'YES', "
                    "t.table_type = 'VIEW' FROM `{0}`.INFORMATION_SCHEMA.COLUMNS c JOIN `{0}`.INFORMATION_SCHEMA.TABLES t "
                    "USING (table_schema, table_name) ORDER BY 1, 2, c.ordinal_position".format(dataset.replace("`", "")),
                    timeout=source.query_timeout,
                ).result(timeout=source.query_timeout)
                rows = [tuple(r.values()) for r in rows]
                relations = {(r[0], r[1], r[5]) for r in rows}
                tables += introspection.assemble(relations, [r[:5] for r in rows], [])
        except Exception as exc:
            raise classify(exc, target) from None
        return tables


def _service_account(credentials) -> dict:
    raw = credentials.get("service_account_json")
    if not raw:
        raise ConnectorError("AUTH_FAILED", "credentials.service_account_json is required for BigQuery.")
    try:
        info = json.loads(raw) if isinstance(raw, str) else dict(raw)
    except (ValueError, TypeError):
        raise ConnectorError("AUTH_FAILED", "credentials.service_account_json is not valid JSON.") from None
    token_uri = str(info.get("token_uri", ""))
    if not token_uri.startswith("https://oauth2.googleapis.com/"):
        raise ConnectorError("DESTINATION_NOT_ALLOWED", "The service account's token_uri must be Google's OAuth endpoint.")
    return info
