"""Benchmark: schema discovery, refresh and export against SQLAlchemy's inspectors and a raw query.

Builds a scratch PostgreSQL database of TABLES tables x COLUMNS columns (in batches that fit a
default max_locks_per_transaction), then times, side by side in one run:

- first discovery: a discovery job (claim, read, diff, store) into an empty catalogue;
- refresh: the same job again, over the unchanged catalogue (the diff finds nothing to write);
- read: the connector's discover() alone (three bulk catalogue queries, assembled);
- export: GET /schema/export streamed to the end (server time, in-process);
- SQLAlchemy per-table loop: Inspector.get_columns + get_pk_constraint for each table;
- SQLAlchemy bulk inspector: get_multi_columns + get_multi_pk_constraint;
- raw floor: one pg_catalog query returning every column, fetched.

The database gets a unique name per run (or --db-name NAME: reused if it exists). The script drops
only a database it created, and keeps it with --keep.

Usage:  .venv/bin/python bench/discovery.py [--tables 10000] [--columns 20] [--runs 3] [--db-name N] [--keep]
Env:    BENCH_PG (admin DSN, default postgres://postgres@127.0.0.1:5432/postgres),
        DATABASE_URL (where Django stores the catalogue; default a scratch SQLite file).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
ADMIN_DSN = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")
TABLES_PER_TRANSACTION = 200  # each CREATE TABLE holds a few locks until commit; 64 x 100 slots by default
TYPES = ["integer", "text", "numeric(12,2)", "timestamptz", "boolean", "varchar(64)", "jsonb", "date"]

RAW_QUERY = """SELECT n.nspname, c.relname, a.attname, a.atttypid, a.atttypmod, a.attnotnull, a.attnum
FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname = 'public'"""


def dsn_for(database: str) -> str:
    return urlsplit(ADMIN_DSN)._replace(path=f"/{database}").geturl()


def create_database(name: str) -> bool:
    """Create ``name`` unless it exists; True when this run created it (and may drop it)."""
    import psycopg

    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return False
        admin.execute(f'CREATE DATABASE "{name}"')
    return True


def build_tables(name: str, tables: int, columns: int):
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(dsn_for(name)) as conn:
        existing = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0]
        for first in range(existing, tables, TABLES_PER_TRANSACTION):
            statements = []
            for t in range(first, min(first + TABLES_PER_TRANSACTION, tables)):
                cols = ", ".join(
                    f"c{c:02d} {TYPES[(t + c) % len(TYPES)]}{' NOT NULL' if c % 3 == 0 else ''}"
                    for c in range(1, columns)
                )
                statements.append(f"CREATE TABLE t{t:05d} (id bigint PRIMARY KEY, {cols});")
            conn.execute("\n".join(statements))
            conn.commit()
    print(f"built {name}: {tables} tables x {columns} columns in {time.perf_counter() - started:.1f} s")


def drop_database(name: str):
    import psycopg

    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    print(f"dropped {name}")


def setup_django():
    if "DATABASE_URL" not in os.environ:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(tempfile.gettempdir()) / 'rivergen_bench_django.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rivergen.settings")
    os.environ.setdefault("DEBUG", "true")  # development keys and the "open" network policy (loopback)
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def bench_source(database: str):
    from django.utils import timezone

    from accounts.models import Organization
    from datasources.models import DataSource

    parts = urlsplit(ADMIN_DSN)
    org, _ = Organization.objects.get_or_create(name="Bench")
    now = timezone.now()
    source, _ = DataSource.objects.update_or_create(
        organization=org, name_key=f"bench {database}",
        defaults=dict(
            name=f"Bench {database}", type="postgresql", host=parts.hostname, port=parts.port or 5432,
            database_name=database, schema_name="public", connection_timeout=30, query_timeout=600,
            credentials={"username": parts.username or "postgres", "password": parts.password or ""},
            created_at=now, updated_at=now, schema_auto_refresh=False,
        ),
    )
    return source


def job(source) -> float:
    from datasources.models import Discovery
    from datasources.services.discovery import discovery_run

    discovery = Discovery.objects.create(data_source=source)
    started = time.perf_counter()
    done = discovery_run(discovery.pk)
    elapsed = time.perf_counter() - started
    assert done.status == "succeeded", (done.error_code, done.error_message)
    return elapsed


def ours(source, user) -> dict:
    from rest_framework.test import APIClient

    from datasources.connectors import connector_for
    from datasources.models import DataSource, SchemaTable

    SchemaTable.objects.filter(data_source=source).delete()
    DataSource.objects.filter(pk=source.pk).update(schema_discovered_at=None)
    first = job(source)
    refresh = job(source)
    started = time.perf_counter()
    tables = connector_for("postgresql")().discover(source)
    read = time.perf_counter() - started
    client = APIClient()
    client.force_authenticate(user)
    started = time.perf_counter()
    response = client.get(f"/api/v1/data-sources/{source.pk}/schema/export")
    lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
    export = time.perf_counter() - started
    assert response.status_code == 200 and lines == len(tables), (response.status_code, lines)
    return {"first": first, "refresh": refresh, "read": read, "export": export,
            "tables": len(tables), "columns": sum(len(t.columns) for t in tables)}


def sqlalchemy_baselines(database: str) -> dict:
    from sqlalchemy import create_engine, inspect

    engine = create_engine(dsn_for(database).replace("postgres://", "postgresql+psycopg://", 1))
    try:
        started = time.perf_counter()
        inspector = inspect(engine)  # a fresh Inspector: no cached reflection between runs
        for name in inspector.get_table_names(schema="public"):
            inspector.get_columns(name, schema="public")
            inspector.get_pk_constraint(name, schema="public")
        loop = time.perf_counter() - started
        started = time.perf_counter()
        inspector = inspect(engine)
        columns = inspector.get_multi_columns(schema="public")
        inspector.get_multi_pk_constraint(schema="public")
        bulk = time.perf_counter() - started
        assert columns
        return {"loop": loop, "bulk": bulk}
    finally:
        engine.dispose()


def raw_floor(database: str) -> float:
    import psycopg

    with psycopg.connect(dsn_for(database)) as conn:
        started = time.perf_counter()
        conn.execute(RAW_QUERY).fetchall()
        return time.perf_counter() - started


def bench_user():
    from django.contrib.auth import get_user_model

    from accounts.models import Membership, Organization

    user, _ = get_user_model().objects.get_or_create(username="bench")
    Membership.objects.get_or_create(user=user, organization=Organization.objects.get(name="Bench"),
                                     defaults={"role": "viewer"})
    return user


def report(args, runs, vendor):
    def median(key):
        return statistics.median(r[key] for r in runs)

    floor = median("raw")
    rows = [
        ("first discovery (job: read + diff + store)", "first"),
        ("refresh of the unchanged catalogue (job)", "refresh"),
        ("read (connector discover: bulk queries)", "read"),
        ("export (GET /schema/export, streamed)", "export"),
        ("SQLAlchemy per-table Inspector loop", "loop"),
        ("SQLAlchemy bulk get_multi_* inspector", "bulk"),
        ("raw pg_catalog query (floor)", "raw"),
    ]
    print(f"\n{runs[0]['tables']} tables, {runs[0]['columns']} columns; catalogue stored in Django on {vendor}; "
          f"median of {args.runs} runs")
    print(f"| {'what':44} | {'median s':>8} | {'p95 s':>6} | {'x raw':>6} |")
    print(f"|{'-' * 46}|{'-' * 10}|{'-' * 8}|{'-' * 8}|")
    for label, key in rows:
        values = sorted(r[key] for r in runs)
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        print(f"| {label:44} | {median(key):8.3f} | {p95:6.3f} | {median(key) / floor:6.1f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=10000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db-name", help="use (and keep) this database; built if missing")
    parser.add_argument("--keep", action="store_true", help="keep the database this run created")
    args = parser.parse_args()
    name = args.db_name or f"rivergen_bench_{uuid.uuid4().hex[:10]}"
    created = create_database(name)
    try:
        build_tables(name, args.tables, args.columns)
        setup_django()
        from django.db import connection

        source = bench_source(name)
        user = bench_user()
        runs = []
        for run in range(1, args.runs + 1):
            result = {**ours(source, user), **sqlalchemy_baselines(name), "raw": raw_floor(name)}
            runs.append(result)
            print(f"run {run}: " + ", ".join(f"{k} {v:.3f}" for k, v in result.items() if isinstance(v, float)))
        report(args, runs, connection.vendor)
    finally:
        if created and not args.keep and not args.db_name:
            from django.db import connections

            connections.close_all()
            drop_database(name)


if __name__ == "__main__":
    main()
