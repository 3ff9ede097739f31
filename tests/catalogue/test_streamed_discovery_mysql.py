"""Discovery streamed in chunks on MariaDB (the MySQL reader): incremental refreshes that record what a
full read records, and the old catalogue kept whole when the server goes mid-read or the worker dies."""
import os
import signal
import time
import uuid

import pymysql
import pytest
from django.utils import timezone

from datasources.catalogue import stream
from datasources.connectors.sql import mysql_chunks
from datasources.connectors import connector_for
from datasources.models import DataSource, Discovery, SchemaChange
from tests.catalogue.test_streamed_discovery import (catalogue_in_a_child, counting_reads, exported,
                                                     needs_postgres_store, recorded, run)
from tests.connectors.test_sql_catalogue import maria_database  # noqa: F401  (fixture)
from tests.support.servers import make_source

TABLES = 40
MARIA = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


def maria(*statements, database=None) -> list:
    with pymysql.connect(database=database, autocommit=True, **MARIA) as conn, conn.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        return list(cursor.fetchall())


@pytest.fixture
def estate(mariadb, monkeypatch):
    """A private database of TABLES tables (and a view), read in pages of 7 tables."""
    monkeypatch.setattr(mysql_chunks, "CHUNK", 7)
    monkeypatch.setattr(mysql_chunks, "NAME_PAGES", 2)  # names read 14 at a time: three reads of names
    name = f"rg_i23_{uuid.uuid4().hex[:10]}"
    maria(f"CREATE DATABASE {name}")
    try:
        maria(*(f"CREATE TABLE t{i:02d} (id bigint PRIMARY KEY, name varchar(64) NOT NULL, amount decimal(10,2))"
                for i in range(TABLES)), "CREATE VIEW v AS SELECT id, name FROM t00", database=name)
        yield name
    finally:
        maria(f"DROP DATABASE {name}")


def maria_source(org, database, name="estate"):
    now = timezone.now()
    return DataSource.objects.create(
        organization=org, name=name, name_key=name, type="mariadb", database_name=database,
        host=MARIA["host"], port=MARIA["port"], connection_timeout=5, query_timeout=60,
        schema_auto_refresh=False, credentials={"username": MARIA["user"], "password": ""},
        created_at=now, updated_at=now,
    )


def discovered_then_altered(org, estate):
    source = maria_source(org, estate)
    assert run(source).status == "succeeded"
    before = exported(source)
    maria(*(f"ALTER TABLE t{i:02d} ADD COLUMN later int" for i in range(TABLES)), database=estate)
    return source, before


CHANGES = [
    "ALTER TABLE t01 ADD COLUMN added int",
    "ALTER TABLE t02 DROP COLUMN amount",
    "ALTER TABLE t03 MODIFY amount decimal(12,2)",
    "ALTER TABLE t04 MODIFY amount decimal(10,2) NOT NULL",
    "ALTER TABLE t05 DROP PRIMARY KEY",
    "ALTER TABLE t06 RENAME COLUMN name TO title",
    "ALTER TABLE t07 MODIFY name varchar(64) NOT NULL COMMENT 'a comment'",
    "ALTER TABLE t08 ALTER COLUMN amount SET DEFAULT 0",
    "DROP TABLE t09",
    "ALTER TABLE t10 PARTITION BY HASH(id) PARTITIONS 3",
    "ALTER TABLE t11 COMMENT 'now commented'",
    "CREATE TABLE t99 (id int)",
    "DROP VIEW v",
    "CREATE TABLE v (id int, name varchar(64))",
]


@pytest.mark.services
@pytest.mark.parametrize("dictionary", [True, False], ids=["innodb-dictionary", "partitions-view"])
def test_the_reader_lists_every_kind_as_the_bulk_read_does(maria_database, monkeypatch, dictionary):
    """The bulk read's estate (tests/connectors/test_sql_catalogue.py), read page by page; pages follow the
    byte order of (schema, name), so two names differing only in case are two tables. Partitions are
    counted from InnoDB's dictionary, or (without the PROCESS privilege) from PARTITIONS."""
    unreadable = "SELECT NAME FROM information_schema.NO_SUCH_VIEW"
    # Each way, the other is made to fail: the dictionary's answer stands alone (the test login has PROCESS).
    monkeypatch.setattr(mysql_chunks, "PARTITIONS" if dictionary else "INNODB_PARTITIONS", unreadable)
    maria("CREATE TABLE Items (a int)", "CREATE TABLE items2 (a int, b int, PRIMARY KEY (b, a))",
          "CREATE TABLE parted_myisam (id int) ENGINE=MyISAM PARTITION BY HASH(id) PARTITIONS 3",
          "CREATE TABLE `parted-odd name` (id int) PARTITION BY HASH(id) PARTITIONS 4",
          "CREATE TABLE parted_sub (id int, at date) PARTITION BY RANGE (YEAR(at)) SUBPARTITION BY HASH(id) "
          "SUBPARTITIONS 2 (PARTITION p0 VALUES LESS THAN (2000), PARTITION p1 VALUES LESS THAN MAXVALUE)",
          database=maria_database)
    source = make_source("mariadb", host=MARIA["host"], port=MARIA["port"], database_name=maria_database,
                         credentials={"username": MARIA["user"], "password": ""})
    every, pages = (lambda listed: {ref for ref, *_ in listed}), []
    for listed, tables in connector_for("mariadb")().read_chunks(source, every):
        assert all(fingerprint for *_, fingerprint in listed)
        pages += tables
    tables = {t.name: t for t in pages}
    assert {name: (t.kind, t.partition_count) for name, t in tables.items()} == {
        "items": ("table", None), "cheap": ("view", None), "audited": ("table", None),
        "logs": ("partitioned_table", 2), "Items": ("table", None), "items2": ("table", None),
        "parted_myisam": ("partitioned_table", 3), "parted-odd name": ("partitioned_table", 4),
        "parted_sub": ("partitioned_table", 2),
    }
    assert tables["items"].comment == "Things we sell" and tables["cheap"].comment is None
    items = [(c.name, c.data_type, c.nullable, c.primary_key, c.position, c.default, c.comment, c.generated, c.hidden)
             for c in tables["items"].columns]
    assert items == [
        ("id", "int(11)", False, True, 1, None, "the key", None, False),
        ("price", "decimal(10,2)", False, False, 2, "0.00", None, None, False),
        ("secret", "varchar(20)", True, False, 3, "NULL", None, None, True),
        ("doubled", "decimal(11,2)", True, False, 4, None, None, "`price` * 2", False),
    ]
    assert [(c.name, c.primary_key) for c in tables["items2"].columns] == [("a", True), ("b", True)]
    assert [c.name for c in tables["Items"].columns] == ["a"]


@pytest.mark.services
@pytest.mark.django_db
def test_incremental_and_full_refresh_record_the_same_changes(org, estate, monkeypatch):
    incremental, full = maria_source(org, estate, "incremental"), maria_source(org, estate, "full")
    asked = counting_reads(monkeypatch)
    assert run(incremental).status == run(full).status == "succeeded"
    assert sum(asked) == 2 * (TABLES + 1)  # a first discovery reads every table
    asked.clear()
    assert run(incremental).changes_found() is False
    assert sum(asked) == 0  # nothing changed: no column read
    maria(*CHANGES, database=estate)
    by_fingerprint = run(incremental)
    assert sum(asked) == 12  # t01-t08, t10, t11, the new t99 and the new v: only what changed
    asked.clear()
    by_reading_all = run(full, full=True)
    assert sum(asked) == TABLES + 1  # every table listed now
    assert by_fingerprint.status == by_reading_all.status == "succeeded"
    assert recorded(by_fingerprint) == recorded(by_reading_all)
    assert {(c[0], c[2]) for c in recorded(by_fingerprint)} >= {
        ("column_added", "t01"), ("column_removed", "t02"), ("column_type_changed", "t03"),
        ("column_nullability_changed", "t04"), ("primary_key_changed", "t05"), ("column_added", "t06"),
        ("table_removed", "t09"), ("kind_changed", "t10"), ("table_added", "t99"), ("kind_changed", "v"),
    }
    assert exported(incremental) == exported(full)


@pytest.mark.services
@pytest.mark.django_db
def test_a_server_gone_mid_read_leaves_the_previous_catalogue(org, estate, monkeypatch):
    source, before = discovered_then_altered(org, estate)
    store_chunk, chunks_written = stream._store_chunk, []

    def then_the_server_goes(*args):
        store_chunk(*args)
        chunks_written.append(1)
        if len(chunks_written) == 2:  # two chunks written in the new catalogue, then the link dies
            for (pid,) in maria(f"SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '{estate}'"):
                maria(f"KILL {pid}")

    monkeypatch.setattr(stream, "_store_chunk", then_the_server_goes)
    failed = run(source)
    assert failed.status == "failed" and failed.error_code, (failed.error_code, failed.error_message)
    assert 2 <= len(chunks_written) < 6  # of 6: what the reader had fetched ahead was written, then it failed
    assert exported(source) == before
    assert not SchemaChange.objects.filter(data_source=source).exists()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_stream_leaves_the_previous_catalogue_readable(org, estate):
    needs_postgres_store()
    source, before = discovered_then_altered(org, estate)
    reader, writer = os.pipe()

    def pause_after_two(n):
        if n == 2:
            os.write(writer, b"2")
            time.sleep(60)  # killed here, half-way through the catalogue

    pid = catalogue_in_a_child(source, pause_after_two)
    try:
        assert os.read(reader, 1) == b"2"
        assert exported(source) == before  # readable, and still the old one, while the worker writes
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert exported(source) == before
    assert not SchemaChange.objects.filter(data_source=source).exists()
    Discovery.objects.filter(data_source=source, status="running").update(claimed_until=timezone.now())
    again = run(source)
    assert again.status == "succeeded" and again.changes_summary()["added"] == TABLES
