"""Benchmark: our schema discovery and store against SQLAlchemy's per-table Inspector loop.

Builds (once) a scratch PostgreSQL database of TABLES tables x COLUMNS columns, then, in the
same run, times

- ours: the PostgreSQL connector's discover() (one query per kind of object) plus
  catalogue_replace() storing every table and column in batches, through a real discovery job;
- baseline: SQLAlchemy's Inspector.get_table_names() and get_columns() once per table
  (columns only: no primary keys, no views, nothing stored).

Usage:  .venv/bin/python bench/discovery.py [--runs 3] [--tables 2000] [--columns 20] [--rebuild]
Env:    BENCH_PG (admin DSN, default postgres://postgres@127.0.0.1:5432/postgres),
        DATABASE_URL (where Django stores the catalogue; default a scratch SQLite file).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
BENCH_DB = "rivergen_bench"
ADMIN_DSN = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")


def build_database(tables: int, columns: int, rebuild: bool):
    import psycopg

    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (BENCH_DB,)).fetchone()
        if exists and not rebuild and _shape(tables) == (tables, tables * columns):
            return
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {BENCH_DB}")
    started = time.perf_counter()
    types = ["integer", "text", "numeric(12,2)", "timestamptz", "boolean", "varchar(64)", "jsonb", "date"]
    with psycopg.connect(_bench_dsn()) as conn:
        for t in range(tables):
            cols = ", ".join(
                f"c{c:02d} {types[(t + c) % len(types)]}{' NOT NULL' if c % 3 == 0 else ''}"
                for c in range(1, columns)
            )
            conn.execute(f"CREATE TABLE t{t:05d} (id bigint PRIMARY KEY, {cols})")
    print(f"built {BENCH_DB}: {tables} tables x {columns} columns in {time.perf_counter() - started:.1f} s")


def _bench_dsn() -> str:
    parts = urlsplit(ADMIN_DSN)
    return parts._replace(path=f"/{BENCH_DB}").geturl()


def _shape(tables):
    import psycopg

    with psycopg.connect(_bench_dsn()) as conn:
        return conn.execute(
            "SELECT count(DISTINCT table_name), count(*) FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        ).fetchone()


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


def bench_source():
    from django.utils import timezone

    from accounts.models import Organization
    from datasources.models import DataSource

    parts = urlsplit(ADMIN_DSN)
    org, _ = Organization.objects.get_or_create(name="Bench")
    now = timezone.now()
    source, _ = DataSource.objects.update_or_create(
        organization=org, name_key="bench postgresql",
        defaults=dict(
            name="Bench PostgreSQL", type="postgresql", host=parts.hostname, port=parts.port or 5432,
            database_name=BENCH_DB, schema_name="public", connection_timeout=30, query_timeout=600,
            credentials={"username": parts.username or "postgres", "password": parts.password or ""},
            created_at=now, updated_at=now, schema_auto_refresh=False,
        ),
    )
    return source


def ours(source) -> dict:
    from datasources.catalogue.store import catalogue_replace
    from datasources.connectors import connector_for
    from datasources.models import Discovery
    from datasources.services.discovery import discovery_run

    catalogue_replace(source=source, tables=[])  # cold: nothing stored yet
    started = time.perf_counter()
    tables = connector_for("postgresql")().discover(source)
    read = time.perf_counter() - started
    catalogue_replace(source=source, tables=tables)
    cold = time.perf_counter() - started
    # A refresh through the whole job path (claim, discover, compare, finish), as the API runs it.
    discovery = Discovery.objects.create(data_source=source)
    started = time.perf_counter()
    done = discovery_run(discovery.pk)
    assert done.status == "succeeded", (done.error_code, done.error_message)
    return {
        "read": read, "store": cold - read, "cold": cold, "refresh": time.perf_counter() - started,
        "tables": done.table_count, "columns": done.column_count,
    }


def baseline() -> dict:
    from sqlalchemy import create_engine, inspect

    engine = create_engine(_bench_dsn().replace("postgres://", "postgresql+psycopg://", 1))
    try:
        started = time.perf_counter()
        inspector = inspect(engine)  # a fresh Inspector: no cached reflection between runs
        names = inspector.get_table_names(schema="public")
        columns = sum(len(inspector.get_columns(name, schema="public")) for name in names)
        return {"job": time.perf_counter() - started, "tables": len(names), "columns": columns}
    finally:
        engine.dispose()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tables", type=int, default=2000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    build_database(args.tables, args.columns, args.rebuild)
    setup_django()
    from django.db import connection

    source = bench_source()
    runs_ours, runs_base = [], []
    for run in range(1, args.runs + 1):
        runs_ours.append(ours(source))
        runs_base.append(baseline())
        print(f"run {run}: ours cold {runs_ours[-1]['cold']:.3f} s, refresh {runs_ours[-1]['refresh']:.3f} s, "
              f"baseline {runs_base[-1]['job']:.3f} s")

    def median(runs, key):
        return statistics.median(r[key] for r in runs)

    base = median(runs_base, "job")
    print(f"\ncatalogue stored in Django on {connection.vendor}; {runs_ours[0]['tables']} tables, "
          f"{runs_ours[0]['columns']} columns (baseline saw {runs_base[0]['tables']} / {runs_base[0]['columns']}); "
          f"medians over {args.runs} runs")
    print(f"ours, read (3 bulk catalogue queries, with primary keys): {median(runs_ours, 'read'):.3f} s")
    print(f"ours, store into an empty catalogue:                      {median(runs_ours, 'store'):.3f} s")
    print(f"ours, cold discovery = read + store:                      {median(runs_ours, 'cold'):.3f} s")
    print(f"ours, refresh job of an unchanged catalogue:              {median(runs_ours, 'refresh'):.3f} s")
    print(f"baseline, Inspector.get_columns per table (read only):    {base:.3f} s")
    print(f"speed-up, read vs read:             {base / median(runs_ours, 'read'):.1f}x")
    print(f"speed-up, cold read+store vs read:  {base / median(runs_ours, 'cold'):.1f}x")
    print(f"speed-up, refresh job vs read:      {base / median(runs_ours, 'refresh'):.1f}x")


if __name__ == "__main__":
    main()
