"""Helpers for file-source tests: real files and tables, uploaded and registered through the API."""
import io
import json
import zipfile
from pathlib import Path

from datasources.connectors import connector_for
from datasources.models import DataSource
from tests.support import client_for, created_source


def discover(source):
    return connector_for(source.type)().discover(source)


def version_of(source) -> str:
    return connector_for(source.type)().test(source).server_version


def upload(user, filename: str, content: bytes) -> str:
    """Store ``content`` through POST /api/v1/storage/files; the storage name (the file_path)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client_for(user).post(
        "/api/v1/storage/files", {"file": SimpleUploadedFile(filename, content)}, format="multipart"
    )
    assert response.status_code == 201, response.content
    return response.json()["data"]["name"]


def register(user, source_type: str, file_path: str, **extra) -> DataSource:
    """Create the source through POST /api/v1/data-sources; the saved row."""
    body = {
        "name": f"{source_type} {file_path}"[:255], "type": source_type, "file_path": file_path,
        "schema_auto_refresh": False, "credentials": {}, **extra,
    }
    return created_source(client_for(user), body)


def file_source(user, source_type: str, filename: str, content: bytes, **extra) -> DataSource:
    return register(user, source_type, upload(user, filename, content), **extra)


def zip_folder(folder: Path, prefix: str = "") -> bytes:
    """The folder as a zip archive, members under ``prefix`` (e.g. "orders/")."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(folder).as_posix())
    return buffer.getvalue()


def zip_members(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_with_symlink(name: str, target: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(name)
        info.external_attr = (0o120777 << 16)  # S_IFLNK: how zip tools record a symlink
        archive.writestr(info, target)
    return buffer.getvalue()


def delta_table(folder: Path) -> Path:
    """A real Delta table written by delta-rs, two commits, the second adding a column."""
    import pyarrow as pa
    from deltalake import write_deltalake

    first = pa.table({
        "order_id": pa.array([1, 2], pa.int64()),
        "customer": pa.array(["ann", None], pa.string()),
        "total": pa.array([9.5, 3.25], pa.float64()),
        "items": pa.array([["a"], []], pa.list_(pa.string())),
    })
    write_deltalake(str(folder), first, partition_by=["customer"])
    second = first.append_column("shipped_at", pa.array([None, None], pa.timestamp("us", tz="UTC")))
    write_deltalake(str(folder), second, mode="append", schema_mode="merge")
    return folder


def iceberg_table(folder: Path) -> Path:
    """A real Iceberg table written by pyiceberg through a SQLite catalogue; its table folder."""
    import pyarrow as pa
    from pyiceberg.catalog.sql import SqlCatalog
    from pyiceberg.schema import Schema
    from pyiceberg.types import DoubleType, LongType, NestedField, StringType

    catalog = SqlCatalog("c2", uri=f"sqlite:///{folder / 'catalog.db'}", warehouse=f"file://{folder / 'wh'}")
    catalog.create_namespace("shop")
    schema = Schema(
        NestedField(1, "order_id", LongType(), required=True),
        NestedField(2, "customer", StringType(), required=False),
        NestedField(3, "total", DoubleType(), required=False),
        identifier_field_ids=[1],
    )
    table = catalog.create_table("shop.orders", schema=schema)
    arrow_schema = pa.schema([
        pa.field("order_id", pa.int64(), nullable=False), pa.field("customer", pa.string()),
        pa.field("total", pa.float64()),
    ])
    table.append(pa.table({"order_id": [1, 2], "customer": ["ann", None], "total": [9.5, 1.0]}, arrow_schema))
    with table.update_schema() as update:
        update.add_column("note", StringType())
    return folder / "wh" / "shop" / "orders"


HUDI_FIELDS = [
    {"name": "trip_id", "type": "string"},
    {"name": "fare", "type": ["null", "double"], "default": None},
    {"name": "city", "type": ["null", "string"], "default": None},
]


def _hudi_commit(folder: Path, instant: str, fields: list, rows: dict) -> None:
    """One completed COPY_ON_WRITE commit: a base parquet file and the commit's JSON metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    file_id = f"{instant[-8:]}-0000-0000-0000-000000000000-0"
    filename = f"{file_id}_0-1-0_{instant}.parquet"
    count = len(next(iter(rows.values())))
    meta = {
        "_hoodie_commit_time": [instant] * count, "_hoodie_commit_seqno": [f"{instant}_0_{i}" for i in range(count)],
        "_hoodie_record_key": rows["trip_id"], "_hoodie_partition_path": ["sf"] * count,
        "_hoodie_file_name": [filename] * count,
    }
    (folder / "sf").mkdir(exist_ok=True)
    pq.write_table(pa.table({**meta, **rows}), folder / "sf" / filename)
    schema = {"type": "record", "name": "trips_record", "namespace": "hoodie.trips", "fields": fields}
    commit = {
        "partitionToWriteStats": {"sf": [{"fileId": file_id, "path": f"sf/{filename}", "numWrites": count}]},
        "compacted": False, "operationType": "INSERT", "extraMetadata": {"schema": json.dumps(schema)},
    }
    (folder / ".hoodie" / f"{instant}.commit.requested").write_text("")
    (folder / ".hoodie" / f"{instant}.inflight").write_text("")
    (folder / ".hoodie" / f"{instant}.commit").write_text(json.dumps(commit))


def hudi_table(folder: Path) -> Path:
    """A Hudi COPY_ON_WRITE table in the on-disk layout Hudi 0.14 writes (table version 6),
    built by hand because no Hudi writer runs without Spark or Flink; two commits, the second
    adding a column to the writer schema."""
    (folder / ".hoodie").mkdir(parents=True)
    properties = {
        "hoodie.table.name": "trips", "hoodie.table.type": "COPY_ON_WRITE", "hoodie.table.version": "6",
        "hoodie.table.base.file.format": "PARQUET", "hoodie.timeline.layout.version": "1",
        "hoodie.table.recordkey.fields": "trip_id", "hoodie.table.partition.fields": "city",
        "hoodie.populate.meta.fields": "true",
    }
    (folder / ".hoodie" / "hoodie.properties").write_text("".join(f"{k}={v}\n" for k, v in properties.items()))
    _hudi_commit(folder, "20240101000000000", HUDI_FIELDS,
                 {"trip_id": ["t1"], "fare": [12.5], "city": ["sf"]})
    later = HUDI_FIELDS + [{"name": "driver", "type": ["null", "string"], "default": None}]
    _hudi_commit(folder, "20240102000000000", later,
                 {"trip_id": ["t2"], "fare": [7.0], "city": ["sf"], "driver": ["dee"]})
    return folder


def columns_of(table) -> list[tuple[str, str]]:
    return [(column.name, column.data_type) for column in table.columns]

