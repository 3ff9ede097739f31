"""File sources: a stored file (or a zipped table) read through the storage backend."""
from datasources.connectors.base import Connector
from datasources.connectors.nosql import AWS_KEYS, AWS_SECRETS


class FileConnector(Connector):
    family = "files"
    required = (("file_path",),)


class CsvConnector(FileConnector):
    type_name, label = "csv", "CSV file"


class ExcelConnector(FileConnector):
    type_name, label = "excel", "Excel workbook"


class JsonConnector(FileConnector):
    type_name, label = "json", "JSON file"


class ParquetConnector(FileConnector):
    type_name, label = "parquet", "Parquet file"


class OrcConnector(FileConnector):
    type_name, label = "orc", "ORC file"


class DeltaLakeConnector(FileConnector):
    type_name, label = "delta_lake", "Delta Lake table"


class IcebergConnector(FileConnector):
    type_name, label = "iceberg", "Apache Iceberg table"


class HudiConnector(FileConnector):
    type_name, label = "hudi", "Apache Hudi table"


class S3Connector(FileConnector):
    type_name, label = "s3", "Amazon S3 object"
    credential_keys = AWS_KEYS
    secret_keys = AWS_SECRETS
