"""Discover schema (202 + job status) and the stored schema (filters, pages, query count)."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from datasources.catalogue.store import catalogue_replace
from datasources.connectors.base import DiscoveredColumn, DiscoveredTable
from datasources.models import DataSource, Discovery, SchemaColumn, SchemaTable
from tests.support import api_create
from tests.support.connections import postgres_body, scratch_postgres_database

pytestmark = pytest.mark.django_db

SCRATCH_DDL = [
    "CREATE SCHEMA sales",
    "CREATE TABLE sales.orders (id bigint PRIMARY KEY, customer text NOT NULL, total numeric(10,2))",
    "CREATE TABLE sales.customers (id int, region varchar(20), PRIMARY KEY (id))",
    "CREATE VIEW sales.big_orders AS SELECT id, total FROM sales.orders WHERE total > 100",
    "CREATE TABLE public.events (at timestamptz, payload jsonb)",
]


def discover(client, source_id):
    return client.post(f"/api/v1/data-sources/{source_id}/discover-schema", format="json")


def schema_of(client, source_id, **params):
    return client.get(f"/api/v1/data-sources/{source_id}/schema", params)


def job(client, source_id, discovery_id):
    return client.get(f"/api/v1/data-sources/{source_id}/discoveries/{discovery_id}")


@pytest.fixture
def other_source(api, workspace):
    return api_create(api, {"workspace_id": workspace.pk, "name": "Legacy", "type": "other",
                        "schema_auto_refresh": False, "credentials": {}})


def fake_catalogue(tables_per_schema=3, columns=4):
    """Connector-shaped results for filling the store directly (the store is what is under test)."""
    return [
        DiscoveredTable(schema=schema, name=f"{prefix}_{i}", kind="view" if i == 0 else "table", columns=[
            DiscoveredColumn(name=f"c{j}", data_type="integer", nullable=j > 1, primary_key=j == 1, position=j)
            for j in range(1, columns + 1)
        ])
        for schema, prefix in (("sales", "Orders"), ("hr", "people"))
        for i in range(tables_per_schema)
    ]


@pytest.fixture
def stored(other_source):
    source = DataSource.objects.get(pk=other_source["id"])
    catalogue_replace(source=source, tables=fake_catalogue())
    return source


def test_discover_answers_202_queued_then_records_the_outcome(api, other_source, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = discover(api, other_source["id"])
    assert response.status_code == 202
    data = response.json()["data"]
    assert data == {"discovery_id": data["discovery_id"], "status": "queued"}
    result = job(api, other_source["id"], data["discovery_id"]).json()["data"]
    assert result["status"] == "failed" and result["error_code"] == "UNSUPPORTED"
    assert result["table_count"] is None
    assert result["created_at"] <= result["started_at"] <= result["finished_at"]


def test_a_queued_discovery_shows_queued_until_a_worker_takes_it(api, other_source):
    # No on-commit callbacks run inside this test's transaction, so nothing consumes the job.
    data = discover(api, other_source["id"]).json()["data"]
    result = job(api, other_source["id"], data["discovery_id"]).json()["data"]
    assert result["status"] == "queued" and result["started_at"] is None


def test_a_discovery_of_another_source_is_404(api, workspace, stored):
    second = api_create(api, {"workspace_id": workspace.pk, "name": "Second", "type": "other", "credentials": {}})
    discovery = Discovery.objects.create(data_source=stored)
    assert job(api, second["id"], discovery.pk).status_code == 404
    assert job(api, stored.pk, discovery.pk).status_code == 200


def test_schema_groups_tables_by_schema_with_columns_in_order(api, stored):
    data = schema_of(api, stored.pk).json()["data"]
    assert data["count"] == 6 and data["schema_discovered_at"].endswith("Z")
    assert [s["name"] for s in data["schemas"]] == ["hr", "sales"]
    first = data["schemas"][0]["tables"][0]
    assert (first["name"], first["kind"], first["column_count"]) == ("people_0", "view", 4)
    assert [c["position"] for c in first["columns"]] == [1, 2, 3, 4]
    assert first["columns"][0] == {
        "name": "c1", "data_type": "integer", "nullable": False, "primary_key": True, "position": 1,
        "default": None, "comment": None, "generated": None, "hidden": False,
    }


def test_schema_before_any_discovery_is_empty(api, other_source):
    data = schema_of(api, other_source["id"]).json()["data"]
    assert data["count"] == 0 and data["schemas"] == [] and data["schema_discovered_at"] is None


def test_schema_and_table_filters_match_exactly(api, stored):
    data = schema_of(api, stored.pk, schema="sales", table="Orders_1").json()["data"]
    assert data["count"] == 1
    assert data["schemas"] == [{"name": "sales", "tables": [data["schemas"][0]["tables"][0]]}]
    assert data["schemas"][0]["tables"][0]["name"] == "Orders_1"
    assert schema_of(api, stored.pk, schema="SAL").json()["data"]["count"] == 0
    assert schema_of(api, stored.pk, table="orders_1").json()["data"]["count"] == 0


def test_schema_is_paginated_over_tables(api, stored):
    pages = [schema_of(api, stored.pk, page=n, page_size=4).json()["data"] for n in (1, 2)]
    names = [[t["name"] for s in p["schemas"] for t in s["tables"]] for p in pages]
    assert names == [["people_0", "people_1", "people_2", "Orders_0"], ["Orders_1", "Orders_2"]]
    assert pages[0]["total_pages"] == 2 and pages[0]["count"] == 6
    past = schema_of(api, stored.pk, page=3, page_size=4)
    assert past.status_code == 404 and past.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("params", [{"page_size": 101}, {"page_size": 0}, {"page": "x"}, {"page": -1}])
def test_bad_page_parameters_are_400(api, stored, params):
    response = schema_of(api, stored.pk, **params)
    assert response.status_code == 400 and response.json()["error"]["code"] == "BAD_REQUEST"


def test_schema_query_count_does_not_grow_with_page_size(api, other_source, django_assert_num_queries):
    source = DataSource.objects.get(pk=other_source["id"])
    catalogue_replace(source=source, tables=fake_catalogue(tables_per_schema=60, columns=20))
    with CaptureQueriesContext(connection) as small:
        schema_of(api, source.pk, page_size=1)
    # auth user, memberships, source, count, tables, columns: the same for 1 table or 100.
    with django_assert_num_queries(len(small)):
        data = schema_of(api, source.pk, page_size=100).json()["data"]
    assert sum(len(s["tables"]) for s in data["schemas"]) == 100


def test_replacing_a_catalogue_drops_the_old_one(stored):
    catalogue_replace(source=stored, tables=[DiscoveredTable(schema=None, name="only", columns=[
        DiscoveredColumn(name="a", data_type="text")])])
    assert list(SchemaTable.objects.filter(data_source=stored).values_list("schema_name", "name")) == [("", "only")]
    assert SchemaColumn.objects.filter(table__data_source=stored).count() == 1
    assert SchemaColumn.objects.get(table__data_source=stored).position == 1  # 0 from a connector means "in order"


def test_deleting_a_source_deletes_its_catalogue(stored):
    stored.delete()
    assert not SchemaTable.objects.exists() and not SchemaColumn.objects.exists()


# --- against the machine's PostgreSQL -------------------------------------------------------

@pytest.fixture
def scratch_database(postgres):
    with scratch_postgres_database(SCRATCH_DDL) as name:
        yield name


@pytest.mark.services
def test_postgres_discovery_lists_the_real_tables_and_columns(
    api, workspace, scratch_database, django_capture_on_commit_callbacks,
):
    source = api_create(api, postgres_body(workspace, database_name=scratch_database))
    with django_capture_on_commit_callbacks(execute=True):
        queued = discover(api, source["id"]).json()["data"]
    result = job(api, source["id"], queued["discovery_id"]).json()["data"]
    assert result["status"] == "succeeded", result
    assert (result["table_count"], result["column_count"]) == (4, 9)
    data = schema_of(api, source["id"]).json()["data"]
    tables = {(s["name"], t["name"]): t for s in data["schemas"] for t in s["tables"]}
    assert set(tables) == {("public", "events"), ("sales", "big_orders"), ("sales", "customers"), ("sales", "orders")}
    assert tables[("sales", "big_orders")]["kind"] == "view"
    orders = {c["name"]: c for c in tables[("sales", "orders")]["columns"]}
    assert [c["name"] for c in tables[("sales", "orders")]["columns"]] == ["id", "customer", "total"]
    assert orders["id"]["primary_key"] is True and orders["id"]["nullable"] is False
    assert orders["customer"]["nullable"] is False and orders["total"]["nullable"] is True
    assert "numeric" in orders["total"]["data_type"]
    assert DataSource.objects.get(pk=source["id"]).schema_discovered_at is not None


@pytest.mark.services
def test_postgres_discovery_respects_schema_name(api, workspace, scratch_database, django_capture_on_commit_callbacks):
    source = api_create(api, postgres_body(workspace, database_name=scratch_database, schema_name="public"))
    with django_capture_on_commit_callbacks(execute=True):
        discover(api, source["id"])
    data = schema_of(api, source["id"]).json()["data"]
    assert [(s["name"], [t["name"] for t in s["tables"]]) for s in data["schemas"]] == [("public", ["events"])]


@pytest.mark.services
def test_failed_rediscovery_keeps_the_previous_catalogue(
    api, workspace, scratch_database, django_capture_on_commit_callbacks,
):
    source = api_create(api, postgres_body(workspace, database_name=scratch_database))
    with django_capture_on_commit_callbacks(execute=True):
        discover(api, source["id"])
    DataSource.objects.filter(pk=source["id"]).update(database_name="rg_c3_no_such_db")
    with django_capture_on_commit_callbacks(execute=True):
        queued = discover(api, source["id"]).json()["data"]
    assert job(api, source["id"], queued["discovery_id"]).json()["data"]["status"] == "failed"
    assert schema_of(api, source["id"]).json()["data"]["count"] == 4
