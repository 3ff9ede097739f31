"""File connectors on real files uploaded through the storage API and registered through the create API."""
import io
import json

import pytest
from django.core.files.storage import default_storage

from datasources.models import DataSource
from tests.support.files import (
    columns_of,
    discover,
    file_source,
    upload,
    version_of,
    zip_members,
)
from tests.support.servers import connector_error

pytestmark = pytest.mark.django_db


# --- CSV ------------------------------------------------------------------------------------

def test_csv_discovers_header_and_inferred_types(alice):
    content = b"order_id,customer,total,paid,ordered_at\n1,ann,9.5,true,2024-01-02 10:00:00\n2,,3,false,\n"
    source = file_source(alice, "csv", "orders.csv", content)

    [table] = discover(source)

    assert table.name == "orders"
    assert columns_of(table) == [
        ("order_id", "int64"), ("customer", "string"), ("total", "double"), ("paid", "bool"),
        ("ordered_at", "timestamp[s]"),
    ]
    assert [c.position for c in table.columns] == [1, 2, 3, 4, 5]
    assert "CSV" in version_of(source) and "pyarrow" in version_of(source)


def test_csv_with_semicolons_is_split_on_them(alice):
    source = file_source(alice, "csv", "eu.csv", b"id;name;amount\n1;ann;1.5\n2;bob;2.5\n")

    assert columns_of(discover(source)[0]) == [("id", "int64"), ("name", "string"), ("amount", "double")]


def test_csv_blank_and_repeated_headers_get_usable_names(alice):
    source = file_source(alice, "csv", "odd.csv", b"id,,id\n1,2,3\n")

    assert [c.name for c in discover(source)[0].columns] == ["id", "column_2", "id_2"]


def test_csv_with_only_a_header_is_a_table_of_strings(alice):
    source = file_source(alice, "csv", "empty_rows.csv", b"a,b\n")

    assert columns_of(discover(source)[0]) == [("a", "string"), ("b", "string")]


def test_empty_csv_is_invalid_file(alice):
    source = file_source(alice, "csv", "nothing.csv", b"")

    assert connector_error(source, "discover").code == "INVALID_FILE"


def test_csv_types_come_from_a_bounded_sample(alice, settings):
    settings.DATASOURCES_FILE_SAMPLE_BYTES = 64 * 1024
    rows = b"".join(b"%d\n" % i for i in range(50_000)) + b"not-a-number\n"
    source = file_source(alice, "csv", "big.csv", b"n\n" + rows)

    # The text far past the sample does not change the inferred type: the tail was never read.
    assert columns_of(discover(source)[0]) == [("n", "int64")]


# --- JSON -----------------------------------------------------------------------------------

def test_json_array_of_objects_discovers_every_key(alice):
    records = [
        {"id": 1, "name": "ann", "address": {"city": "Oslo"}, "tags": ["a"]},
        {"id": 2, "name": None, "score": 1.5, "tags": []},
    ]
    source = file_source(alice, "json", "people.json", json.dumps(records, indent=2).encode())

    [table] = discover(source)

    assert table.name == "people"
    assert columns_of(table) == [
        ("id", "int64"), ("name", "string"), ("address", "struct<city: string>"),
        ("tags", "list<item: string>"), ("score", "double"),
    ]


def test_json_lines_are_read_one_object_per_line(alice):
    content = b'{"id": 1, "ok": true}\n{"id": 2, "ok": false, "note": "x"}\n'
    source = file_source(alice, "json", "events.jsonl", content)

    assert columns_of(discover(source)[0]) == [("id", "int64"), ("ok", "bool"), ("note", "string")]


def test_json_key_with_mixed_values_is_typed_json(alice):
    source = file_source(alice, "json", "mixed.json", b'[{"v": 1}, {"v": "one"}]')

    assert columns_of(discover(source)[0]) == [("v", "json")]


def test_json_sample_cut_inside_a_record_keeps_the_whole_ones(alice, settings):
    settings.DATASOURCES_FILE_SAMPLE_BYTES = 1024
    records = [{"id": i, "name": f"n{i}"} for i in range(500)]
    source = file_source(alice, "json", "long.json", json.dumps(records).encode())

    assert columns_of(discover(source)[0]) == [("id", "int64"), ("name", "string")]


def test_json_record_larger_than_the_sample_is_invalid_file_saying_so(alice, settings):
    settings.DATASOURCES_FILE_SAMPLE_BYTES = 100
    source = file_source(alice, "json", "wide.json", json.dumps([{"text": "x" * 500}]).encode())

    error = connector_error(source, "discover")

    assert error.code == "INVALID_FILE" and "larger than the 100-byte sample" in error.message


@pytest.mark.parametrize("content", [b"[1, 2, 3]", b'{"id": 1,', b"", b"\xff\xfe{}"])
def test_json_that_is_not_objects_is_invalid_file(alice, content):
    source = file_source(alice, "json", "bad.json", content)

    assert connector_error(source, "discover").code == "INVALID_FILE"


# --- Parquet and ORC ------------------------------------------------------------------------

def arrow_orders():
    import pyarrow as pa

    return pa.table(
        {"order_id": [1, 2], "customer": ["ann", None], "placed": pa.array([1, 2], pa.timestamp("ms"))},
        schema=pa.schema([
            pa.field("order_id", pa.int64(), nullable=False),
            pa.field("customer", pa.string()),
            pa.field("placed", pa.timestamp("ms")),
        ]),
    )


def test_parquet_schema_comes_from_the_footer_with_nullability(alice):
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(arrow_orders(), buffer)
    source = file_source(alice, "parquet", "orders.parquet", buffer.getvalue())

    [table] = discover(source)

    assert columns_of(table) == [("order_id", "int64"), ("customer", "string"), ("placed", "timestamp[ms]")]
    assert [c.nullable for c in table.columns] == [False, True, True]
    assert "Parquet" in version_of(source) and "2 rows" in version_of(source)


def test_orc_schema_comes_from_the_footer(alice):
    from pyarrow import orc

    buffer = io.BytesIO()
    orc.write_table(arrow_orders(), buffer)
    source = file_source(alice, "orc", "orders.orc", buffer.getvalue())

    assert columns_of(discover(source)[0]) == [
        ("order_id", "int64"), ("customer", "string"), ("placed", "timestamp[ns]"),
    ]
    assert "ORC" in version_of(source)


@pytest.mark.parametrize("source_type,filename", [("parquet", "x.parquet"), ("orc", "x.orc")])
def test_corrupt_columnar_file_is_invalid_file(alice, source_type, filename):
    source = file_source(alice, source_type, filename, b"PAR1 this is not really a columnar file PAR1")

    error = connector_error(source, "discover")

    assert error.code == "INVALID_FILE"
    assert default_storage.location not in error.message


# --- Excel ----------------------------------------------------------------------------------

def workbook_bytes() -> bytes:
    import datetime

    import openpyxl

    workbook = openpyxl.Workbook()
    sales = workbook.active
    sales.title = "Sales"
    sales.append(["region", "units", "price", "sold_on"])
    sales.append(["north", 3, 9.5, datetime.datetime(2024, 1, 2)])
    sales.append(["south", 4, 2, datetime.datetime(2024, 1, 3)])
    staff = workbook.create_sheet("Staff")
    staff.append([None])  # a leading blank row: the header is the first row with values
    staff.append(["name", "active", None, "code"])
    staff.append(["ann", True, None, 7])
    staff.append(["bob", False, None, "B7"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_excel_discovers_every_sheet_as_a_table(alice):
    source = file_source(alice, "excel", "report.xlsx", workbook_bytes())

    sales, staff = discover(source)

    assert sales.name == "Sales"
    assert columns_of(sales) == [
        ("region", "string"), ("units", "int64"), ("price", "double"), ("sold_on", "timestamp[us]"),
    ]
    assert staff.name == "Staff"
    assert columns_of(staff) == [("name", "string"), ("active", "bool"), ("column_3", "string"), ("code", "string")]
    assert "2 sheet(s)" in version_of(source)


def test_excel_that_is_not_a_workbook_is_invalid_file(alice):
    source = file_source(alice, "excel", "fake.xlsx", b"name,units\nann,3\n")

    assert connector_error(source, "discover").code == "INVALID_FILE"


def test_excel_zip_bomb_is_refused_before_openpyxl_inflates_it(alice):
    bomb = zip_members({"[Content_Types].xml": b"<x/>", "xl/worksheets/sheet1.xml": b"\0" * (8 * 1024 * 1024)})
    source = file_source(alice, "excel", "bomb.xlsx", bomb)

    assert connector_error(source, "discover").code == "ARCHIVE_UNSAFE"


# --- S3 objects: the format follows the extension -------------------------------------------

def test_s3_object_is_read_in_the_format_its_extension_names(alice):
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(arrow_orders(), buffer)
    source = file_source(alice, "s3", "export.parquet", buffer.getvalue())

    assert [c.name for c in discover(source)[0].columns] == ["order_id", "customer", "placed"]


def test_s3_object_with_an_unknown_extension_is_unsupported_format(alice):
    source = file_source(alice, "s3", "export.bin", b"\x00\x01")

    assert connector_error(source).code == "UNSUPPORTED_FORMAT"


def test_s3_errors_never_carry_the_aws_secret(alice):
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    source = file_source(alice, "s3", "broken.csv", b"", credentials={"aws_secret_access_key": secret})

    error = connector_error(source, "discover")

    assert error.code == "INVALID_FILE" and secret not in error.message


# --- The stored file itself -----------------------------------------------------------------

def test_file_removed_from_storage_is_file_not_found(alice):
    source = file_source(alice, "csv", "gone.csv", b"a\n1\n")
    default_storage.delete(source.file_path)

    assert connector_error(source, "discover").code == "FILE_NOT_FOUND"


def test_another_organizations_file_is_file_not_found(alice, oscar):
    theirs = upload(oscar, "secret.csv", b"salary\n100\n")
    mine = file_source(alice, "csv", "mine.csv", b"a\n1\n")
    mine.file_path = theirs  # as if the row were tampered with: the organization check still holds

    assert connector_error(mine, "discover").code == "FILE_NOT_FOUND"


def test_path_outside_storage_is_file_not_found(alice):
    source = DataSource(organization_id=file_source(alice, "csv", "a.csv", b"a\n1\n").organization_id,
                        type="csv", file_path="../../etc/passwd")

    assert connector_error(source, "discover").code == "FILE_NOT_FOUND"
