"""The registry: one explicit mapping from type name to connector class."""
from datasources.connectors import files, http, nosql, sql
from datasources.connectors.base import Connector, ConnectorError

CONNECTORS: dict[str, type[Connector]] = {
    cls.type_name: cls
    for cls in (
        sql.PostgresConnector, sql.MySqlConnector, sql.MariaDbConnector, sql.SqlServerConnector,
        sql.OracleConnector, sql.SnowflakeConnector, sql.BigQueryConnector, sql.RedshiftConnector,
        nosql.MongoConnector, nosql.ElasticsearchConnector, nosql.RedisConnector,
        nosql.CassandraConnector, nosql.DynamoDbConnector,
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
