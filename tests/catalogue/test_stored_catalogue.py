"""What a real discovery stores is exactly what the database said, for every kind of relation."""
import json
from dataclasses import asdict

import pytest

from datasources.catalogue.export import catalogue_lines
from datasources.catalogue.store import catalogue_replace
from datasources.connectors import connector_for
from datasources.models import DataSource, SchemaTable
from tests.connectors.test_sql_catalogue import maria_database, pg_database  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.services]


def stored_source(org, **fields) -> DataSource:
    from django.utils import timezone

    now = timezone.now()
    return DataSource.objects.create(organization=org, name="s", created_at=now, updated_at=now,
                                     connection_timeout=5, query_timeout=30, **fields)


def as_lines(tables):
    return [{"schema": t.schema, **{k: v for k, v in asdict(t).items() if k != "schema"}} for t in tables]


def exported(source):
    lines = [json.loads(line) for line in b"".join(catalogue_lines(source)).splitlines()]
    for line in lines:
        del line["column_count"]
    return lines


def assert_stored_exactly(source, connector_type):
    tables = connector_for(connector_type)().discover(source)
    catalogue_replace(source=source, tables=tables)
    expected = sorted(as_lines(tables), key=lambda t: (t["schema"] or "", t["name"]))
    assert exported(source) == expected
    ids = dict(SchemaTable.objects.filter(data_source=source).values_list("name", "pk"))
    catalogue_replace(source=source, tables=connector_for(connector_type)().discover(source))
    assert dict(SchemaTable.objects.filter(data_source=source).values_list("name", "pk")) == ids
    return {t["name"]: t for t in expected}


def test_postgres_catalogue_is_stored_exactly(org, pg_database):  # noqa: F811
    source = stored_source(org, type="postgresql", host="127.0.0.1", port=5432, database_name=pg_database,
                           credentials={"username": "postgres"})
    tables = assert_stored_exactly(source, "postgresql")
    assert {name: t["kind"] for name, t in tables.items()} == {
        "orders": "table", "order_view": "view", "order_totals": "materialized_view",
        "events": "partitioned_table", "remote": "foreign_table",
    }
    assert [c["position"] for c in tables["orders"]["columns"]] == [1, 3, 4, 5, 6, 7]


def test_mariadb_catalogue_is_stored_exactly(org, maria_database):  # noqa: F811
    source = stored_source(org, type="mariadb", host="127.0.0.1", port=3306, database_name=maria_database,
                           credentials={"username": "root", "password": ""})
    tables = assert_stored_exactly(source, "mariadb")
    assert set(tables) == {"items", "cheap", "audited", "logs"}
    assert [c["name"] for c in tables["items"]["columns"] if c["hidden"]] == ["secret"]
