"""Discovery streamed in chunks (PostgreSQL): incremental refreshes, and the old catalogue kept whole
when a discovery dies, fails or is still running."""
import os
import signal
import time
from collections import Counter

import psycopg
import pytest
from django.db import connection, connections
from django.utils import timezone

from datasources.catalogue import stream
from datasources.catalogue.export import catalogue_lines
from datasources.connectors.sql import chunks
from datasources.models import DataSource, Discovery, SchemaChange, SchemaTable
from datasources.services.discovery import discovery_run
from datasources.services.deadline import GRACE_SECONDS
from tests.support import finishes_within
from tests.support.connections import PG, scratch_postgres_database

TABLES = 40


@pytest.fixture
def estate(postgres, monkeypatch):
    """A scratch database of TABLES tables (and a view), read in chunks of 7 tables."""
    monkeypatch.setattr(chunks, "CHUNK", 7)
    ddl = [f"CREATE TABLE t{i:02d} (id bigint PRIMARY KEY, name text NOT NULL, amount numeric(10,2))"
           for i in range(TABLES)]
    with scratch_postgres_database(ddl + ["CREATE VIEW v AS SELECT id, name FROM t00"]) as name:
        yield name


def alter(database, *statements):
    with psycopg.connect(dbname=database, autocommit=True, **PG) as conn:
        for statement in statements:
            conn.execute(statement)


def pg_source(org, database, name="estate", **fields):
    now = timezone.now()
    fields = {"host": PG["host"], "port": PG["port"], "connection_timeout": 5, "query_timeout": 60, **fields}
    return DataSource.objects.create(
        organization=org, name=name, name_key=name, type="postgresql", database_name=database,
        schema_auto_refresh=False, credentials={"username": PG["user"], "password": "trust"},
        created_at=now, updated_at=now, **fields,
    )


def run(source, **options) -> Discovery:
    discovery = Discovery.objects.create(data_source=source)
    return discovery_run(discovery.pk, **options)


def exported(source) -> bytes:
    return b"".join(catalogue_lines(source))


def recorded(discovery) -> list[tuple]:
    return sorted(SchemaChange.objects.filter(discovery=discovery).values_list(
        "change_type", "schema_name", "table_name", "column_name", "before", "after", "breaking"), key=repr)


def counting_reads(monkeypatch) -> list[int]:
    """How many tables each chunk asked the server for."""
    asked, choose = [], stream._Progress.choose

    def counting(progress, listed):
        wanted = choose(progress, listed)
        asked.append(len(wanted))
        return wanted

    monkeypatch.setattr(stream._Progress, "choose", counting)
    return asked


def discovered_then_altered(org, estate):
    """A source discovered once, then a column added to every table: (source, its export before)."""
    source = pg_source(org, estate)
    assert run(source).status == "succeeded"
    before = exported(source)
    alter(estate, *(f"ALTER TABLE t{i:02d} ADD COLUMN later int" for i in range(TABLES)))
    return source, before


CHANGES = [
    "ALTER TABLE t01 ADD COLUMN added int",
    "ALTER TABLE t02 DROP COLUMN amount",
    "ALTER TABLE t03 ALTER COLUMN amount TYPE numeric(12,2)",
    "ALTER TABLE t04 ALTER COLUMN amount SET NOT NULL",
    "ALTER TABLE t05 DROP CONSTRAINT t05_pkey",
    "ALTER TABLE t06 RENAME COLUMN name TO title",
    "COMMENT ON COLUMN t07.name IS 'a comment'",
    "ALTER TABLE t08 ALTER COLUMN amount SET DEFAULT 0",
    "DROP TABLE t09",
    "CREATE TABLE t99 (id int)",
    "DROP VIEW v",
    "CREATE MATERIALIZED VIEW v AS SELECT id, name FROM t00",
]


@pytest.mark.services
@pytest.mark.django_db
def test_incremental_and_full_refresh_record_the_same_changes(org, estate, monkeypatch):
    incremental, full = pg_source(org, estate, "incremental"), pg_source(org, estate, "full")
    asked = counting_reads(monkeypatch)
    assert run(incremental).status == run(full).status == "succeeded"
    assert sum(asked) == 2 * (TABLES + 1)  # a first discovery reads every table
    asked.clear()
    assert run(incremental).changes_found() is False
    assert sum(asked) == 0  # nothing changed: no column read
    alter(estate, *CHANGES)
    by_fingerprint = run(incremental)
    assert sum(asked) == 10  # t01-t08, the new t99 and the new v: only what changed
    asked.clear()
    by_reading_all = run(full, full=True)
    assert sum(asked) == TABLES + 1  # every table listed now
    assert by_fingerprint.status == by_reading_all.status == "succeeded"
    assert recorded(by_fingerprint) == recorded(by_reading_all)
    assert {(c[0], c[2]) for c in recorded(by_fingerprint)} >= {
        ("column_added", "t01"), ("column_removed", "t02"), ("column_type_changed", "t03"),
        ("column_nullability_changed", "t04"), ("primary_key_changed", "t05"), ("column_added", "t06"),
        ("table_removed", "t09"), ("table_added", "t99"), ("kind_changed", "v"),
    }
    assert exported(incremental) == exported(full)
    for source in (incremental, full):  # the counts a page shows, stored by the streamed store
        source.refresh_from_db()
        stored = SchemaTable.objects.filter(data_source=source).values_list("schema_name", flat=True)
        assert source.schema_table_counts == dict(Counter(stored)) and sum(source.schema_table_counts.values()) == TABLES + 1


@pytest.mark.services
@pytest.mark.django_db
def test_a_server_gone_mid_read_leaves_the_previous_catalogue(org, estate, monkeypatch):
    source, before = discovered_then_altered(org, estate)
    store_chunk, chunks_written = stream._store_chunk, []

    def then_the_server_goes(*args):
        store_chunk(*args)
        chunks_written.append(1)
        if len(chunks_written) == 2:  # two chunks written in the new catalogue, then the link dies
            alter("postgres", f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{estate}'")

    monkeypatch.setattr(stream, "_store_chunk", then_the_server_goes)
    failed = run(source)
    assert failed.status == "failed" and failed.error_code, (failed.error_code, failed.error_message)
    assert 2 <= len(chunks_written) < 6  # of 6: what the reader had fetched ahead was written, then it failed
    assert exported(source) == before
    assert not SchemaChange.objects.filter(data_source=source).exists()


@pytest.mark.loopback
@pytest.mark.django_db
@pytest.mark.loopback  # the silent listener is on loopback
def test_a_silent_servers_streamed_discovery_fails_at_its_deadline(org, silent):
    source = pg_source(org, "db", host="127.0.0.1", port=silent.port, connection_timeout=1, query_timeout=2)
    with finishes_within(1 + 2 + GRACE_SECONDS):
        failed = run(source)
    assert (failed.status, failed.error_code) == ("failed", "TIMEOUT")
    assert not SchemaTable.objects.filter(data_source=source).exists()


def catalogue_in_a_child(source, on_chunk):
    """Fork a worker that runs a discovery of ``source``, calling ``on_chunk(n)`` after each chunk."""
    connections.close_all()  # the child opens its own connections; a shared socket would mix both
    for conn in connections.all():
        getattr(conn, "close_pool", lambda: None)()  # pooled ones too (PostgreSQL)
    pid = os.fork()
    if pid == 0:  # the worker
        try:
            store_chunk = stream._store_chunk
            written = []

            def chunk_then_report(*args):
                store_chunk(*args)
                written.append(1)
                on_chunk(len(written))

            stream._store_chunk = chunk_then_report
            run(source)
        finally:
            os._exit(0)
    return pid


def needs_postgres_store():
    if connection.vendor != "postgresql":
        pytest.skip("another process sees the catalogue only in a real database (the suite's PostgreSQL run)")


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
    # The dead worker's lock went with its connection; its claim lasts until it expires (issue 21),
    # after which the next delivery takes over: expire it rather than wait out the lease.
    Discovery.objects.filter(data_source=source, status="running").update(claimed_until=timezone.now())
    again = run(source)
    assert again.status == "succeeded" and again.changes_summary()["added"] == TABLES
    assert exported(source) != before


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_reader_during_a_long_discovery_sees_one_whole_catalogue(org, estate):
    needs_postgres_store()
    source, before = discovered_then_altered(org, estate)
    pid = catalogue_in_a_child(source, lambda n: time.sleep(0.2))  # about 1.2 s of discovery
    seen, finished = [], 0
    try:
        while not finished:
            seen.append(exported(source))
            finished, _ = os.waitpid(pid, os.WNOHANG)
    finally:
        if not finished:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    after = exported(source)
    assert Discovery.objects.filter(data_source=source, status="succeeded", changes_added=TABLES).exists()
    assert len(seen) > 3 and set(seen) <= {before, after} and after != before
