"""File sources: a stored file (or a zipped table) read through the storage backend.

A source's ``file_path`` is a storage name (``organizations/{org}/files/{id}/{filename}``);
the bytes come from ``default_storage.open`` under that name, never from a path on disk.
Error codes beyond base.py's:

- ``FILE_NOT_FOUND``: ``file_path`` is not a stored-file path of the source's organization,
  or the stored bytes are gone;
- ``INVALID_FILE``: the file (or archive) cannot be read as the type's format;
- ``UNSUPPORTED_FORMAT``: an ``s3`` object whose extension names no format we read;
- ``ARCHIVE_UNSAFE``: a zip breaks a rule of ``datasources.security.archives`` (path escape, symlink,
  too many members, too large, zip bomb).
"""
import re
import zipfile
from contextlib import contextmanager
from pathlib import PurePosixPath

from datasources.connectors.aws import AWS_KEYS, AWS_LABELS, AWS_SECRETS
from datasources.connectors.base import (
    Connector,
    ConnectorError,
    DiscoveredTable,
    TestOutcome,
)
from datasources.connectors.files import formats as file_formats
from datasources.connectors.files import table_formats
from datasources.security.archives import UnsafeArchive, extracted_zip
from datasources.security.tls import VERIFIED_ONLY

STORED_PATH = re.compile(r"^organizations/(?P<org>\d+)/files/\d+/(?P<filename>[^/\\]+)$")


@contextmanager
def open_stored_file(source):
    """The source's stored file, open for binary reading.

    The create and update rules already tie ``file_path`` to a StoredFile of the source's
    organization; here the path is checked again by shape and organization (no database
    query, so this also works in the helper thread a deadline runs it in).
    """
    from django.core.files.storage import default_storage

    path = source.file_path or ""
    match = STORED_PATH.match(path)
    missing = ConnectorError("FILE_NOT_FOUND", "The stored file of this source no longer exists; upload it again.")
    if not match or match["filename"] in (".", "..") or int(match["org"]) != source.organization_id:
        raise missing
    try:
        handle = default_storage.open(path, "rb")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise missing from None
    with handle:
        yield handle


def table_stem(source) -> str:
    """The name a one-table file gets: its file name without the extension."""
    return PurePosixPath(source.file_path or "").stem or "table"


class FileConnector(Connector):
    family = "files"
    required = (("file_path",),)
    form_fields = ("file_path",)
    form_credentials = ()
    own_deadline = False  # no network: the callers (connection test, discovery) bound the read

    def file_format(self, source) -> str:
        return self.type_name

    def reach(self, source, work):
        with open_stored_file(source) as handle:
            return work(source, None, handle)

    def read(self, source, handle) -> tuple[str, list[DiscoveredTable]]:
        try:
            return file_formats.read_file(self.file_format(source), handle, table_stem(source))
        except zipfile.BadZipFile as exc:
            raise ConnectorError("INVALID_FILE", f"The file is not a readable {self.label}: {exc}") from None
        except UnsafeArchive as exc:
            raise ConnectorError("ARCHIVE_UNSAFE", str(exc)) from None

    def check(self, source, target, endpoint) -> TestOutcome:
        version, _ = self.read(source, endpoint)
        return TestOutcome(server_version=version)

    def read_schema(self, source, target, endpoint) -> list[DiscoveredTable]:
        _, tables = self.read(source, endpoint)
        return tables


class TableArchiveConnector(FileConnector):
    """A table folder (Delta, Iceberg, Hudi) uploaded as one zip archive."""

    def read(self, source, handle) -> tuple[str, list[DiscoveredTable]]:
        reader = table_formats.READERS[self.type_name]
        try:
            with extracted_zip(handle) as folder:
                return reader(folder, table_stem(source))
        except UnsafeArchive as exc:
            raise ConnectorError("ARCHIVE_UNSAFE", str(exc)) from None
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
            raise ConnectorError("INVALID_FILE", f"The file is not a readable zip archive: {exc}") from None
        except OSError:
            raise ConnectorError("INVALID_FILE", "The zip archive could not be unpacked.") from None


def file_type(base: type[FileConnector], type_name: str, label: str) -> type[FileConnector]:
    """A file type that differs from its base only by name and label."""
    name = "".join(part.title() for part in type_name.split("_")) + "Connector"
    return type(name, (base,), {"type_name": type_name, "label": label})


CsvConnector = file_type(FileConnector, "csv", "CSV file")
ExcelConnector = file_type(FileConnector, "excel", "Excel workbook")
JsonConnector = file_type(FileConnector, "json", "JSON file")
ParquetConnector = file_type(FileConnector, "parquet", "Parquet file")
OrcConnector = file_type(FileConnector, "orc", "ORC file")
DeltaLakeConnector = file_type(TableArchiveConnector, "delta_lake", "Delta Lake table")
IcebergConnector = file_type(TableArchiveConnector, "iceberg", "Apache Iceberg table")
HudiConnector = file_type(TableArchiveConnector, "hudi", "Apache Hudi table")


class S3Connector(FileConnector):
    type_name, label = "s3", "Amazon S3 object"
    tls_modes, tls_default = VERIFIED_ONLY, "verify-full"
    credential_keys, secret_keys, credential_labels = AWS_KEYS, AWS_SECRETS, AWS_LABELS

    def file_format(self, source) -> str:
        return file_formats.format_from_extension(PurePosixPath(source.file_path or "").name)
