"""New tables copied straight from a PostgreSQL source into a PostgreSQL catalogue store exactly what
reading them as objects stores, and later refreshes find the same changes in both."""
import pytest
from django.db import connection

from datasources.catalogue import copied
from datasources.models import SchemaTable
from tests.catalogue.test_streamed_discovery import alter, exported, pg_source, recorded, run
from tests.support.connections import scratch_postgres_database

DDL = [
    "CREATE DOMAIN positive AS int NOT NULL CHECK (VALUE > 0)",
    "CREATE TYPE mood AS ENUM ('ok', 'sad')",
    """CREATE TABLE a (id bigint, k int, name text NOT NULL DEFAULT 'x', m mood, p positive,
       g int GENERATED ALWAYS AS (k * 2) STORED, "Ünïcode Náme" varchar(10), PRIMARY KEY (k, id))""",
    "COMMENT ON TABLE a IS 'the a'",
    "COMMENT ON COLUMN a.name IS 'its name'",
    "CREATE TABLE b (x serial PRIMARY KEY, y numeric(12,2), \"Tab\tand\\\\slash\" text)",
    "ALTER TABLE b DROP COLUMN y",
    "ALTER TABLE b ADD COLUMN z int[]",
    "CREATE TABLE parted (id int, at date) PARTITION BY RANGE (at)",
    "CREATE TABLE parted_2024 PARTITION OF parted FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
    "CREATE VIEW v AS SELECT id, name FROM a",
    "CREATE MATERIALIZED VIEW mv AS SELECT 1 AS one",
    "CREATE TABLE nothing ()",
    "CREATE SCHEMA other",
    "CREATE TABLE other.a (id int)",
    *(f"CREATE TABLE t{i:02d} (id bigint PRIMARY KEY, name text)" for i in range(20)),
]

CHANGES = [
    "ALTER TABLE a ALTER COLUMN m SET DEFAULT 'ok'",
    "COMMENT ON COLUMN a.name IS 'its name'",  # rewritten as it was: the fingerprint moves, nothing changes
    "ALTER TABLE b RENAME COLUMN z TO zz",
    "ALTER TABLE t03 ALTER COLUMN name SET NOT NULL",
    "DROP TABLE t04",
    "CREATE TABLE t99 (id int)",
]


@pytest.fixture
def rich(postgres):
    with scratch_postgres_database(DDL) as name:
        yield name


def stored(source) -> list[tuple]:
    return list(SchemaTable.objects.filter(data_source=source).order_by("schema_name", "name").values_list(
        "schema_name", "name", "kind", "column_count", "partition_count", "comment", "column_names"))


@pytest.mark.services
@pytest.mark.django_db
def test_copied_tables_are_stored_as_read_ones_and_change_alike(org, rich, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("tables are copied only into a catalogue stored in PostgreSQL")
    straight = pg_source(org, rich, "copied")
    first = run(straight)
    monkeypatch.setattr(copied, "usable", lambda: False)
    as_objects = pg_source(org, rich, "read")
    second = run(as_objects)
    assert first.status == second.status == "succeeded"
    assert (first.table_count, first.column_count) == (second.table_count, second.column_count) == (27, 56)
    assert set(SchemaTable.objects.filter(data_source=straight).values_list("signature", flat=True)) == {copied.COPIED}
    assert copied.COPIED not in SchemaTable.objects.filter(data_source=as_objects).values_list("signature", flat=True)
    assert exported(straight) == exported(as_objects)
    assert stored(straight) == stored(as_objects)
    assert ("public", "a", "table", 7, None, "the a", "id\nk\nname\nm\np\ng\nünïcode náme") in stored(straight)

    alter(rich, *CHANGES)
    monkeypatch.undo()
    refreshed = run(straight)
    monkeypatch.setattr(copied, "usable", lambda: False)
    read_again = run(as_objects)
    assert refreshed.status == read_again.status == "succeeded"
    assert recorded(refreshed) == recorded(read_again)
    assert {(c[0], c[2], c[3]) for c in recorded(refreshed)} == {
        ("column_added", "b", "zz"), ("column_removed", "b", "z"), ("column_nullability_changed", "t03", "name"),
        ("table_removed", "t04", None), ("table_added", "t99", None),
    }
    assert exported(straight) == exported(as_objects)
    assert stored(straight) == stored(as_objects)

