"""The registry: one explicit mapping from type name to connector class.

It is the only module that sees every family; families import ``base`` and the shared
helpers (``targets``, ``ssh``, ``web``, ``aws``), never each other.
"""
from datasources.connectors import http
from datasources.connectors.base import Connector, ConnectorError
from datasources.connectors.files import stored as files
from datasources.connectors.nosql import documents, keyvalue, wide_column
from datasources.connectors.sql import engines, enterprise, warehouses

CONNECTORS: dict[str, type[Connector]] = {
    cls.type_name: cls
    for cls in (
        engines.PostgresConnector, engines.MySqlConnector, engines.MariaDbConnector, enterprise.SqlServerConnector,
        enterprise.OracleConnector, warehouses.SnowflakeConnector, warehouses.BigQueryConnector,
        engines.RedshiftConnector,
        documents.MongoConnector, documents.ElasticsearchConnector, keyvalue.RedisConnector,
        wide_column.CassandraConnector, wide_column.DynamoDbConnector,
        files.CsvConnector, files.ExcelConnector, files.JsonConnector, files.ParquetConnector,
        files.OrcConnector, files.DeltaLakeConnector, files.IcebergConnector, files.HudiConnector,
        files.S3Connector,
        http.HttpApiConnector, http.OtherConnector,
    )
}

TYPE_CHOICES = [(name, cls.label) for name, cls in CONNECTORS.items()]


def connector_for(type_name: str) -> type[Connector]:
    return CONNECTORS[type_name]


__all__ = ["CONNECTORS", "TYPE_CHOICES", "Connector", "ConnectorError", "connector_for"]
