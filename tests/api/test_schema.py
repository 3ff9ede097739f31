"""The stored schema: search, the NDJSON export, and the discovery detail's shape."""
import json

import pytest

from datasources.catalogue.store import catalogue_replace
from datasources.connectors.base import DiscoveredColumn, DiscoveredTable
from datasources.models import DataSource
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(api, workspace):
    response = api.post("/api/v1/data-sources", {"workspace_id": workspace.pk, "name": "Legacy", "type": "other",
                                                 "schema_auto_refresh": False, "credentials": {}}, format="json")
    source = DataSource.objects.get(pk=response.json()["data"]["id"])
    catalogue_replace(source=source, tables=[
        DiscoveredTable("sales", "orders", "table", [
            DiscoveredColumn("id", "integer", False, True, 1, comment="key"),
            DiscoveredColumn("Customer_Email", "text", True, False, 3, default="''::text"),
        ], comment="All orders"),
        DiscoveredTable("sales", "totals", "materialized_view", [DiscoveredColumn("n", "bigint", position=1)]),
        DiscoveredTable("hr", "events", "partitioned_table", [DiscoveredColumn("at", "date", False, False, 1)],
                        partition_count=3),
        DiscoveredTable(None, "loose", columns=[DiscoveredColumn("x", "text")]),
    ])
    return source


def names(response):
    return [(s["name"], t["name"]) for s in response.json()["data"]["schemas"] for t in s["tables"]]


def test_search_matches_table_or_column_names_case_insensitively(api, source):
    url = f"/api/v1/data-sources/{source.pk}/schema"
    assert names(api.get(url, {"search": "EMAIL"})) == [("sales", "orders")]
    assert names(api.get(url, {"search": "tal"})) == [("sales", "totals")]
    assert names(api.get(url, {"search": "ev", "schema": "hr"})) == [("hr", "events")]
    assert names(api.get(url, {"search": "nothing"})) == []


def test_tables_show_kind_partitions_comments_and_defaults(api, source):
    data = api.get(f"/api/v1/data-sources/{source.pk}/schema", {"schema": "sales", "table": "orders"}).json()["data"]
    orders = data["schemas"][0]["tables"][0]
    assert {k: orders[k] for k in ("kind", "partition_count", "comment", "column_count")} == {
        "kind": "table", "partition_count": None, "comment": "All orders", "column_count": 2}
    assert orders["columns"][1] == {
        "name": "Customer_Email", "data_type": "text", "nullable": True, "primary_key": False, "position": 3,
        "default": "''::text", "comment": None, "generated": None, "hidden": False,
    }


def test_export_streams_every_table_as_one_ndjson_line(api, source):
    response = api.get(f"/api/v1/data-sources/{source.pk}/schema/export")
    assert response.status_code == 200 and response["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert [(t["schema"], t["name"], t["kind"]) for t in lines] == [
        (None, "loose", "table"), ("hr", "events", "partitioned_table"),
        ("sales", "orders", "table"), ("sales", "totals", "materialized_view"),
    ]
    assert lines[1]["partition_count"] == 3 and lines[2]["comment"] == "All orders"
    assert lines[2]["columns"][0] == {
        "name": "id", "data_type": "integer", "nullable": False, "primary_key": True, "position": 1,
        "default": None, "comment": "key", "generated": None, "hidden": False,
    }


def test_export_of_many_tables_crosses_chunks_in_order(api, source):
    tables = [DiscoveredTable("s", f"t{i:04d}", columns=[DiscoveredColumn("c", "int", position=1)]) for i in range(1200)]
    catalogue_replace(source=source, tables=tables)
    body = b"".join(api.get(f"/api/v1/data-sources/{source.pk}/schema/export").streaming_content)
    lines = [json.loads(line) for line in body.splitlines()]
    assert [t["name"] for t in lines] == [f"t{i:04d}" for i in range(1200)]
    assert all(len(t["columns"]) == 1 for t in lines)


def test_export_is_read_by_viewers_and_hidden_from_other_organizations(charlie, oscar, source):
    assert client_for(charlie).get(f"/api/v1/data-sources/{source.pk}/schema/export").status_code == 200
    assert client_for(oscar).get(f"/api/v1/data-sources/{source.pk}/schema/export").status_code == 404


def test_export_of_an_undiscovered_source_is_empty(api, workspace):
    created = api.post("/api/v1/data-sources", {"workspace_id": workspace.pk, "name": "Empty", "type": "other",
                                                "schema_auto_refresh": False, "credentials": {}}, format="json")
    response = api.get(f"/api/v1/data-sources/{created.json()['data']['id']}/schema/export")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b""


def test_export_lines_equal_the_schema_pages_even_for_awkward_names(api, source):
    awkward = 'we"ird\\ \n\t é 😀'
    catalogue_replace(source=source, tables=[DiscoveredTable(awkward, awkward, "view", [
        DiscoveredColumn(awkward, awkward, True, False, 7, awkward, awkward, awkward, True),
    ], comment=awkward)])
    line = json.loads(b"".join(api.get(f"/api/v1/data-sources/{source.pk}/schema/export").streaming_content))
    page = api.get(f"/api/v1/data-sources/{source.pk}/schema").json()["data"]["schemas"][0]
    assert line == {"schema": page["name"], **page["tables"][0]}
    assert line["columns"][0]["name"] == awkward
