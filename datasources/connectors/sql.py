"""SQL databases and warehouses."""
from datasources.connectors.base import DATABASE_FIELDS, Connector


class SqlConnector(Connector):
    family = "sql"
    required = DATABASE_FIELDS


class PostgresConnector(SqlConnector):
    type_name, label, default_port = "postgresql", "PostgreSQL", 5432
    schemes = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2")


class RedshiftConnector(SqlConnector):
    type_name, label, default_port = "redshift", "Amazon Redshift", 5439
    schemes = ("redshift", "redshift+psycopg2", "postgresql", "postgres")


class MySqlConnector(SqlConnector):
    type_name, label, default_port = "mysql", "MySQL", 3306
    schemes = ("mysql", "mysql+pymysql", "mysql+mysqldb")


class MariaDbConnector(SqlConnector):
    type_name, label, default_port = "mariadb", "MariaDB", 3306
    schemes = ("mariadb", "mariadb+pymysql", "mysql", "mysql+pymysql")


class SqlServerConnector(SqlConnector):
    type_name, label, default_port = "sqlserver", "Microsoft SQL Server", 1433
    schemes = ("mssql", "sqlserver", "mssql+pymssql", "mssql+pyodbc")


class OracleConnector(SqlConnector):
    type_name, label, default_port = "oracle", "Oracle", 1521
    schemes = ("oracle", "oracle+oracledb")


class SnowflakeConnector(SqlConnector):
    type_name, label, default_port = "snowflake", "Snowflake", 443
    schemes = ("snowflake",)


class BigQueryConnector(SqlConnector):
    type_name, label, default_port = "bigquery", "Google BigQuery", 443
    schemes = ("bigquery",)
    credential_keys = ("service_account_json",)
    secret_keys = ("service_account_json",)
