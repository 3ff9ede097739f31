"""Benchmark: MariaDB (MySQL) discovery, streamed (now) against the bulk read (before), at estate scale.

Builds a MariaDB database of TABLES tables x COLUMNS columns (InnoDB; timed: MariaDB creates a file
per table), then times, in forked children (each reports its own peak RSS, Django included):

- first discovery: a discovery job (claim, read, diff, store) into an empty catalogue;
- refresh: the same job over the unchanged catalogue;
- refresh 1 %: the job after an ALTER TABLE ADD COLUMN on every hundredth table (undone after);

once with the streamed reader (``mysql_chunks``, keyset pages, fingerprints) and once with the bulk
read it replaced (``chunked_reader = None``: three queries over the whole schema, read at once).
(The bulk read's PARTITIONS subquery now carries the schema filter; before this change MariaDB
filled it for every database of the server, so main's bulk read is slower than "before" here on a
server holding other databases: the count of their tables is printed.) The raw floor is one information_schema.COLUMNS query of the schema, fetched.

Usage:  .venv/bin/python bench/discovery_mysql.py [--tables 10000] [--columns 20] [--db-name N] [--keep]
                                                 [--no-before] [--limit 900]
Env:    BENCH_MYSQL (default mysql://root@127.0.0.1:3306), DATABASE_URL (the catalogue's store; default
        a scratch SQLite file).
"""
import argparse
import os
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
from bench.discovery import OutOfTime, empty_catalogue, in_child, setup_django  # noqa: E402

SERVER = urlsplit(os.environ.get("BENCH_MYSQL", "mysql://root@127.0.0.1:3306"))
TYPES = ["int", "text", "decimal(12,2)", "datetime", "tinyint(1)", "varchar(64)", "json", "date"]


def connect(database=None):
    import pymysql

    return pymysql.connect(host=SERVER.hostname, port=SERVER.port or 3306, user=SERVER.username or "root",
                           password=SERVER.password or "", database=database, autocommit=True)


def build(name: str, tables: int, columns: int) -> bool:
    """Create the database (unless it exists) and its missing tables; True when this run created it."""
    with connect() as conn, conn.cursor() as cursor:
        created = not cursor.execute("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (name,))
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS `{name}`")
        cursor.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s", (name,))
        existing = cursor.fetchone()[0]
        started = time.perf_counter()
        for t in range(existing, tables):
            cols = ", ".join(f"c{c:02d} {TYPES[(t + c) % len(TYPES)]}{' NOT NULL' if c % 3 == 0 else ''}"
                             for c in range(1, columns))
            cursor.execute(f"CREATE TABLE `{name}`.t{t:06d} (id bigint PRIMARY KEY, {cols})")
        if tables > existing:
            print(f"created {tables - existing} tables in {time.perf_counter() - started:.1f} s")
        cursor.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA <> %s AND TABLE_SCHEMA "
                       "NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')", (name,))
        print(f"other tables on the server: {cursor.fetchone()[0]}")
    return created


def alter_one_percent(name: str, tables: int, undo: bool = False):
    with connect(name) as conn, conn.cursor() as cursor:
        for t in range(0, tables, 100):
            cursor.execute(f"ALTER TABLE t{t:06d} {'DROP COLUMN bench_1' if undo else 'ADD COLUMN bench_1 int'}")


def bench_source(name: str):
    from django.utils import timezone

    from accounts.models import Organization
    from datasources.models import DataSource

    org, _ = Organization.objects.get_or_create(name="Bench")
    now = timezone.now()
    source, _ = DataSource.objects.update_or_create(
        organization=org, name_key=f"bench mariadb {name}",
        defaults=dict(name=f"Bench mariadb {name}", type="mariadb", host=SERVER.hostname, port=SERVER.port or 3306,
                      database_name=name, connection_timeout=30, query_timeout=1800, schema_auto_refresh=False,
                      credentials={"username": SERVER.username or "root", "password": SERVER.password or ""},
                      created_at=now, updated_at=now),
    )
    # A bench run killed mid-job leaves its discovery claimed: end it, or the next run waits out the lease.
    source.discoveries.filter(status__in=("queued", "running")).update(status="failed", finished_at=now)
    return source


def job(source, streamed: bool) -> tuple[float, int, int]:
    from datasources.connectors.sql.engines import MySqlConnector
    from datasources.models import Discovery
    from datasources.services.discovery import discovery_run

    if not streamed:
        MySqlConnector.chunked_reader = None  # in this forked child only: the bulk read of before
    discovery = Discovery.objects.create(data_source=source)
    started = time.perf_counter()
    done = discovery_run(discovery.pk)
    elapsed = time.perf_counter() - started
    assert done.status == "succeeded", (done.error_code, done.error_message)
    return elapsed, done.table_count, done.column_count


def raw_floor(name: str) -> float:
    with connect(name) as conn, conn.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute("SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, ORDINAL_POSITION "
                       "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s", (name,))
        cursor.fetchall()
        return time.perf_counter() - started


def measure(source, name, args, streamed: bool) -> dict:
    result = {}
    empty_catalogue(source)
    for key in ("first", "refresh", "changed"):
        if key == "changed":
            alter_one_percent(name, args.tables)
        try:
            (elapsed, tables, columns), rss = in_child(lambda: job(source, streamed), args.limit)
            result[key] = (elapsed, rss)
            result.setdefault("size", (tables, columns))  # the first discovery's: the unaltered estate
        except (OutOfTime, RuntimeError) as exc:
            print(f"{'streamed' if streamed else 'bulk'} {key}: {exc}")
        finally:
            if key == "changed":
                alter_one_percent(name, args.tables, undo=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=10000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--db-name", help="use (and keep) this database; built if missing or short of tables")
    parser.add_argument("--keep", action="store_true", help="keep the database this run created")
    parser.add_argument("--no-before", action="store_true", help="skip the bulk read (before)")
    parser.add_argument("--limit", type=float, default=900, help="seconds before a child is killed")
    args = parser.parse_args()
    name = args.db_name or f"rg_bench_{uuid.uuid4().hex[:10]}"
    created = build(name, args.tables, args.columns)
    try:
        setup_django()
        from django.db import connection

        source = bench_source(name)
        after = measure(source, name, args, streamed=True)
        before = {} if args.no_before else measure(source, name, args, streamed=False)
        raw = in_child(lambda: raw_floor(name), args.limit)[0]
        tables, columns = after.get("size", before.get("size", (0, 0)))
        print(f"\nMariaDB, {tables} tables, {columns} columns; catalogue stored on {connection.vendor}; one run; "
              f"raw COLUMNS query {raw:.2f} s")
        print(f"| {'job':40} | {'before s':>8} | {'MB':>5} | {'after s':>7} | {'MB':>5} |")
        print(f"|{'-' * 42}|{'-' * 10}|{'-' * 7}|{'-' * 9}|{'-' * 7}|")
        for key, label in (("first", "first discovery"), ("refresh", "refresh, unchanged"),
                           ("changed", "refresh, 1 % of tables changed")):
            cells = [f"{r[key][0]:{width}.2f} | {r[key][1]:5.0f}" if key in r else f"{'n/a':>{width}} | {'':>5}"
                     for r, width in ((before, 8), (after, 7))]
            print(f"| {label:40} | {cells[0]} | {cells[1]} |")
    finally:
        if created and not args.keep and not args.db_name:
            with connect() as conn, conn.cursor() as cursor:
                cursor.execute(f"DROP DATABASE `{name}`")
            print(f"dropped {name}")


if __name__ == "__main__":
    main()
