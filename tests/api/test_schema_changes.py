"""Schema change detection against a real PostgreSQL database altered between discoveries."""
import json

import psycopg
import pytest

from datasources.models import DataSource, SchemaChange, SchemaColumn, SchemaTable
from tests.conftest import client_for
from tests.support.connections import (
    postgres_body,
    scratch_postgres_database,
)
from tests.support.receiver import verify
from tests.support.servers import free_port

pytestmark = [pytest.mark.django_db, pytest.mark.services]

DDL = [
    "CREATE TABLE orders (id int PRIMARY KEY, total numeric(10,2), note text, legacy text)",
    "CREATE TABLE lines (order_id int, line int, sku text NOT NULL, PRIMARY KEY (order_id, line))",
    "CREATE TABLE stable (id int PRIMARY KEY, v text)",
    "CREATE TABLE dropped (id int)",
    "CREATE VIEW report AS SELECT id FROM orders",
]
ALTERATIONS = [
    "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2)",
    "ALTER TABLE orders ALTER COLUMN note SET NOT NULL",
    "ALTER TABLE orders DROP COLUMN legacy",
    "ALTER TABLE orders ADD COLUMN placed_at date",
    "ALTER TABLE lines DROP CONSTRAINT lines_pkey",
    "ALTER TABLE lines ADD PRIMARY KEY (order_id)",
    "DROP TABLE dropped",
    "CREATE TABLE added (id int)",
    "DROP VIEW report",
    "CREATE MATERIALIZED VIEW report AS SELECT id FROM orders",
]


@pytest.fixture
def database(postgres):
    with scratch_postgres_database(DDL) as name:
        yield name


def run(database, statements):
    with psycopg.connect(host="127.0.0.1", user="postgres", dbname=database, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def discover(client, source_id, capture):
    with capture(execute=True):
        queued = client.post(f"/api/v1/data-sources/{source_id}/discover-schema", format="json").json()["data"]
    return client.get(f"/api/v1/data-sources/{source_id}/discoveries/{queued['discovery_id']}").json()["data"]


def changes(client, source_id, **params):
    return client.get(f"/api/v1/data-sources/{source_id}/schema/changes", params)


@pytest.fixture
def baselined(api, workspace, database, django_capture_on_commit_callbacks):
    source = api.post("/api/v1/data-sources", postgres_body(workspace, database_name=database), format="json")
    source_id = source.json()["data"]["id"]
    first = discover(api, source_id, django_capture_on_commit_callbacks)
    assert first["status"] == "succeeded"
    assert first["changes"] == {"added": 0, "removed": 0, "changed": 0, "breaking": 0}
    assert not SchemaChange.objects.exists()  # the first discovery is the baseline
    return source_id


def test_each_alteration_is_recorded_once_with_the_right_breaking_flag(
    api, database, baselined, django_capture_on_commit_callbacks,
):
    ids_before = dict(SchemaTable.objects.values_list("name", "pk"))
    columns_before = set(SchemaColumn.objects.values_list("pk", "table__name", "name", "position", "data_type"))
    run(database, ALTERATIONS)
    result = discover(api, baselined, django_capture_on_commit_callbacks)
    assert result["changes"] == {"added": 2, "removed": 2, "changed": 4, "breaking": 4}
    rows = changes(api, baselined, page_size=100).json()["data"]
    found = sorted((r["change_type"], r["table"], r["column"], r["before"], r["after"], r["breaking"]) for r in rows)
    assert found == sorted([
        ("column_type_changed", "orders", "total", "numeric(10,2)", "numeric(12,2)", True),
        ("column_nullability_changed", "orders", "note", True, False, False),
        ("column_removed", "orders", "legacy", "text", None, True),
        ("column_added", "orders", "placed_at", None, "date", False),
        ("primary_key_changed", "lines", None, ["order_id", "line"], ["order_id"], False),
        ("table_removed", "dropped", None, "table", None, True),
        ("table_added", "added", None, None, "table", False),
        ("kind_changed", "report", None, "view", "materialized_view", True),
    ])
    assert {r["schema"] for r in rows} == {"public"}
    ids_after = dict(SchemaTable.objects.values_list("name", "pk"))
    assert all(ids_after[name] == ids_before[name] for name in ("orders", "lines", "stable", "report"))
    columns_after = set(SchemaColumn.objects.values_list("pk", "table__name", "name", "position", "data_type"))
    untouched = {c for c in columns_before if c[1] == "stable" or (c[1], c[2]) in {("orders", "id"), ("lines", "sku")}}
    assert len(untouched) == 4 and untouched <= columns_after  # same ids, positions and types
    # Nothing changed since: a third discovery records nothing more.
    assert discover(api, baselined, django_capture_on_commit_callbacks)["changes"]["added"] == 0
    assert SchemaChange.objects.count() == 8


def test_changes_are_filtered_paginated_and_scoped(
    api, charlie, oscar, database, baselined, django_capture_on_commit_callbacks,
):
    run(database, ALTERATIONS)
    discover(api, baselined, django_capture_on_commit_callbacks)
    breaking = changes(api, baselined, breaking="true").json()
    assert breaking["pagination"]["total"] == 4 and all(r["breaking"] for r in breaking["data"])
    assert changes(api, baselined, breaking="false").json()["pagination"]["total"] == 4
    assert changes(api, baselined, table="orders").json()["pagination"]["total"] == 4
    assert changes(api, baselined, table="order").json()["pagination"]["total"] == 0
    assert changes(api, baselined, since="2000-01-01").json()["pagination"]["total"] == 8
    assert changes(api, baselined, since="2999-01-01T00:00:00Z").json()["pagination"]["total"] == 0
    page = changes(api, baselined, page=2, page_size=5).json()
    assert len(page["data"]) == 3 and page["pagination"]["total_pages"] == 2
    assert changes(api, baselined, page=3, page_size=5).status_code == 404
    for bad in ({"breaking": "maybe"}, {"since": "yesterday"}, {"page": "0"}):
        response = changes(api, baselined, **bad)
        assert response.status_code == 400 and response.json()["error"]["code"] == "BAD_REQUEST"
    assert changes(client_for(charlie), baselined).status_code == 200
    assert changes(client_for(oscar), baselined).status_code == 404


def test_a_source_whose_server_is_down_keeps_its_catalogue_and_records_nothing(
    api, database, baselined, django_capture_on_commit_callbacks,
):
    stored = list(SchemaTable.objects.values_list("pk", "name", "signature"))
    run(database, ALTERATIONS)
    DataSource.objects.filter(pk=baselined).update(port=free_port())
    result = discover(api, baselined, django_capture_on_commit_callbacks)
    assert result["status"] == "failed" and result["error_code"] == "HOST_UNREACHABLE"
    assert result["changes"] is None
    assert list(SchemaTable.objects.values_list("pk", "name", "signature")) == stored
    assert not SchemaChange.objects.exists()


def test_a_timed_out_discovery_keeps_the_catalogue_and_records_nothing(
    api, database, baselined, silent, django_capture_on_commit_callbacks,
):
    stored = list(SchemaTable.objects.values_list("pk", "name", "signature"))
    DataSource.objects.filter(pk=baselined).update(port=silent.port, connection_timeout=1, query_timeout=1)
    result = discover(api, baselined, django_capture_on_commit_callbacks)
    assert result["status"] == "failed" and result["error_code"] == "TIMEOUT"
    assert list(SchemaTable.objects.values_list("pk", "name", "signature")) == stored
    assert not SchemaChange.objects.exists()


def test_an_altered_table_sends_one_signed_breaking_schema_changed_event(
    api, database, baselined, receiver, django_capture_on_commit_callbacks,
):
    hook = api.post("/api/v1/webhooks", {"url": receiver.url, "events": ["data_source.schema_changed"]},
                    format="json").json()["data"]
    run(database, ["ALTER TABLE orders DROP COLUMN legacy", "ALTER TABLE orders ADD COLUMN placed_at date"])

    result = discover(api, baselined, django_capture_on_commit_callbacks)
    discover(api, baselined, django_capture_on_commit_callbacks)  # unchanged since: no second event

    assert result["changes"] == {"added": 1, "removed": 1, "changed": 0, "breaking": 1}
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert verify(hook["secret"], request.headers, request.body)
    assert request.headers["x-rivergen-event"] == "data_source.schema_changed"
    event = json.loads(request.body)["data"]
    assert (event["data_source_id"], event["discovery_id"]) == (baselined, result["discovery_id"])
    assert (event["added"], event["removed"], event["changed"], event["breaking"]) == (1, 1, 0, True)
    assert event["changes_url"] == f"/api/v1/data-sources/{baselined}/schema/changes"


def test_a_failed_discovery_sends_discovery_failed_and_no_schema_event(
    api, database, baselined, receiver, django_capture_on_commit_callbacks,
):
    api.post("/api/v1/webhooks", {"url": receiver.url,
                                  "events": ["data_source.schema_changed", "data_source.discovery_failed"]},
             format="json")
    run(database, ALTERATIONS)
    DataSource.objects.filter(pk=baselined).update(port=free_port())

    discover(api, baselined, django_capture_on_commit_callbacks)

    assert [r.headers["x-rivergen-event"] for r in receiver.requests] == ["data_source.discovery_failed"]
