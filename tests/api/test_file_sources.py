"""File sources end to end through the HTTP API: upload, create, test connection, discover, read the schema."""
import io

import pytest

from tests.conftest import client_for
from tests.support import post_test
from tests.support.files import (
    file_source,
    hudi_table,
    upload,
    zip_folder,
    zip_members,
)

pytestmark = pytest.mark.django_db


def connection_test_of(user, source_id) -> dict:
    response = post_test(client_for(user), source_id)
    assert response.status_code == 200, response.content
    return response.json()["data"]


def discovered_tables(user, source_id, capture) -> dict:
    client = client_for(user)
    with capture(execute=True):
        queued = client.post(f"/api/v1/data-sources/{source_id}/discover-schema", format="json")
    assert queued.status_code == 202, queued.content
    job = client.get(f"/api/v1/data-sources/{source_id}/discoveries/{queued.json()['data']['discovery_id']}")
    assert job.json()["data"]["status"] == "succeeded", job.json()
    schema = client.get(f"/api/v1/data-sources/{source_id}/schema").json()["data"]
    return {
        table["name"]: [(c["name"], c["data_type"]) for c in table["columns"]]
        for group in schema["schemas"] for table in group["tables"]
    }


def test_csv_source_tests_active_and_discovers_its_columns(alice, django_capture_on_commit_callbacks):
    source = file_source(alice, "csv", "orders.csv", b"order_id,customer,total\n1,ann,9.5\n")

    result = connection_test_of(alice, source.pk)
    source.refresh_from_db()

    assert result["status"] == "succeeded" and "CSV" in result["server_version"]
    assert source.status == "active" and source.failure_count == 0
    assert discovered_tables(alice, source.pk, django_capture_on_commit_callbacks) == {
        "orders": [("order_id", "int64"), ("customer", "string"), ("total", "double")],
    }


def test_excel_source_discovers_one_table_per_sheet(alice, django_capture_on_commit_callbacks):
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.title = "Q1"
    workbook.active.append(["region", "units"])
    workbook.active.append(["north", 3])
    workbook.create_sheet("Q2").append(["region", "revenue"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = file_source(alice, "excel", "report.xlsx", buffer.getvalue())

    assert discovered_tables(alice, source.pk, django_capture_on_commit_callbacks) == {
        "Q1": [("region", "string"), ("units", "int64")],
        "Q2": [("region", "string"), ("revenue", "string")],
    }


def test_hudi_source_discovers_its_table(alice, tmp_path, django_capture_on_commit_callbacks):
    source = file_source(alice, "hudi", "trips.zip", zip_folder(hudi_table(tmp_path / "trips")))

    tables = discovered_tables(alice, source.pk, django_capture_on_commit_callbacks)

    assert [name for name, _ in tables["trips"]] == ["trip_id", "fare", "city", "driver"]


def test_unsafe_archive_fails_the_test_and_counts_the_failure(alice):
    source = file_source(alice, "delta_lake", "evil.zip", zip_members({"../../escape.txt": b"x"}))

    first, second = connection_test_of(alice, source.pk), connection_test_of(alice, source.pk)
    source.refresh_from_db()

    assert (first["status"], first["error_code"]) == ("failed", "ARCHIVE_UNSAFE")
    assert second["error_code"] == "ARCHIVE_UNSAFE"
    assert source.status == "error" and source.failure_count == 2
    assert source.failure_reason.startswith("ARCHIVE_UNSAFE")


def test_unsaved_file_source_can_be_tested_before_it_is_created(alice):
    path = upload(alice, "draft.json", b'[{"id": 1}]')

    response = client_for(alice).post(
        "/api/v1/data-sources/test-connection",
        {"type": "json", "file_path": path, "credentials": {}}, format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["data"]["status"] == "succeeded"
