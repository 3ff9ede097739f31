"""Table-format connectors (Delta Lake, Iceberg, Hudi) on real tables uploaded as zip archives."""
import json

import pytest

from tests.support.files import (
    columns_of,
    delta_table,
    discover,
    file_source,
    hudi_table,
    iceberg_table,
    version_of,
    zip_folder,
    zip_members,
)
from tests.support.servers import connector_error

pytestmark = pytest.mark.django_db


def test_delta_table_discovers_its_current_schema(alice, tmp_path):
    archive = zip_folder(delta_table(tmp_path / "orders"), prefix="orders/")
    source = file_source(alice, "delta_lake", "orders.zip", archive)

    [table] = discover(source)

    assert table.name == "orders"
    # delta-rs writes partition columns after the others; the merged column comes last.
    assert columns_of(table) == [
        ("order_id", "long"), ("total", "double"), ("items", "array<string>"), ("customer", "string"),
        ("shipped_at", "timestamp"),
    ]
    assert "Delta Lake table version 1" in version_of(source)


def test_iceberg_table_discovers_the_latest_schema_and_identifier(alice, tmp_path):
    archive = zip_folder(iceberg_table(tmp_path))
    source = file_source(alice, "iceberg", "orders.zip", archive)

    [table] = discover(source)

    assert table.name == "orders"
    assert columns_of(table) == [("order_id", "long"), ("customer", "string"), ("total", "double"), ("note", "string")]
    assert [(c.nullable, c.primary_key) for c in table.columns] == [(False, True), (True, False), (True, False), (True, False)]
    assert "Iceberg format v2" in version_of(source)


def test_hudi_table_discovers_the_latest_commit_schema_and_record_key(alice, tmp_path):
    archive = zip_folder(hudi_table(tmp_path / "trips"), prefix="trips/")
    source = file_source(alice, "hudi", "trips.zip", archive)

    [table] = discover(source)

    assert table.name == "trips"
    assert columns_of(table) == [("trip_id", "string"), ("fare", "double"), ("city", "string"), ("driver", "string")]
    assert [c.primary_key for c in table.columns] == [True, False, False, False]
    assert "COPY_ON_WRITE" in version_of(source)


@pytest.mark.parametrize("source_type", ["delta_lake", "iceberg", "hudi"])
def test_zip_without_the_table_metadata_is_invalid_file(alice, source_type):
    source = file_source(alice, source_type, "plain.zip", zip_members({"data/part-0.parquet": b"x"}))

    error = connector_error(source, "discover")

    assert error.code == "INVALID_FILE"
    assert "rivergen-archive" not in error.message


@pytest.mark.parametrize("source_type", ["delta_lake", "iceberg", "hudi"])
def test_table_upload_that_is_not_a_zip_is_invalid_file(alice, source_type):
    source = file_source(alice, source_type, "table.zip", b"not a zip at all")

    assert connector_error(source, "discover").code == "INVALID_FILE"


def test_corrupt_delta_log_is_invalid_file_without_server_paths(alice):
    source = file_source(alice, "delta_lake", "t.zip", zip_members({"_delta_log/00000000000000000000.json": b"{nope"}))

    error = connector_error(source, "discover")

    assert error.code == "INVALID_FILE"
    assert "rivergen-archive" not in error.message


@pytest.mark.parametrize("source_type,members", [
    ("iceberg", {"orders/metadata/v1.metadata.json": b"{not json"}),
    ("iceberg", {"orders/metadata/v1.metadata.json": b'{"format-version": 2}'}),
    ("hudi", {"trips/.hoodie/hoodie.properties": b"hoodie.table.name=trips\n"}),
])
def test_corrupt_table_metadata_is_invalid_file(alice, source_type, members):
    source = file_source(alice, source_type, "t.zip", zip_members(members))

    error = connector_error(source, "discover")

    assert error.code == "INVALID_FILE"
    assert "rivergen-archive" not in error.message


def test_archives_unpack_where_the_setting_says_and_leave_nothing(alice, settings, tmp_path, monkeypatch):
    from datasources.security import archives

    settings.DATASOURCES_ARCHIVE_TEMP_DIR = str(tmp_path / "unpack")
    (tmp_path / "unpack").mkdir()
    used = []
    real_extract = archives.extract_zip
    monkeypatch.setattr(archives, "extract_zip", lambda f, folder: used.append(folder) or real_extract(f, folder))
    source = file_source(alice, "hudi", "trips.zip", zip_folder(hudi_table(tmp_path / "trips")))

    assert discover(source)[0].name == "trips"
    assert [folder.parent for folder in used] == [tmp_path / "unpack"]
    assert list((tmp_path / "unpack").iterdir()) == []


def test_zip_slip_in_a_table_archive_is_archive_unsafe(alice):
    source = file_source(alice, "delta_lake", "evil.zip", zip_members({"../../escaped.txt": b"x"}))

    assert connector_error(source, "discover").code == "ARCHIVE_UNSAFE"


def test_hudi_commit_naming_a_file_outside_the_table_is_archive_unsafe(alice, tmp_path):
    folder = hudi_table(tmp_path / "trips")
    commit = folder / ".hoodie" / "20240102000000000.commit"
    body = json.loads(commit.read_text())
    body["partitionToWriteStats"]["sf"][0]["path"] = "/etc/passwd"
    commit.write_text(json.dumps(body))
    source = file_source(alice, "hudi", "trips.zip", zip_folder(folder))

    assert connector_error(source, "discover").code == "ARCHIVE_UNSAFE"
