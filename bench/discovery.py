"""Benchmark: schema discovery, refresh and export against SQLAlchemy's inspectors and a raw query.

Builds a scratch PostgreSQL database of TABLES tables x COLUMNS columns (in batches that fit a
default max_locks_per_transaction), then times, side by side in one run:

- first discovery: a discovery job (claim, read, diff, store) into an empty catalogue;
- refresh: the same job again, over the unchanged catalogue (the diff finds nothing to write);
- refresh 1%: the job after an ALTER TABLE on 1 % of the tables (a column added to each);
- read: the connector's discover() alone (the bulk catalogue queries, assembled);
- export: GET /schema/export streamed to the end (server time, in-process);
- schema API p95: the first page, an exact schema= filter and a search= (20 requests each, after
  one of each unmeasured and gc.freeze(): a warm gunicorn worker, see gunicorn.conf.py);
- SQLAlchemy per-table loop: Inspector.get_columns + get_pk_constraint for each table (skipped
  above 20,000 tables: it would run for minutes);
- SQLAlchemy bulk inspector: get_multi_columns + get_multi_pk_constraint;
- raw floor: one pg_catalog query returning every column, fetched.

Each job, the export, the read, the API requests, the inspectors and the raw query run in a forked child of this
process, so each reports its own peak RSS (a worker's memory: the ~100 MB of Django it starts with
included) and none inherits another's heap. A child that runs
past --limit seconds is killed and reported as such.

The database gets a unique name per run (or --db-name NAME: reused if it exists). The script drops
only a database it created, and keeps it with --keep.

Usage:  .venv/bin/python bench/discovery.py [--tables 10000] [--columns 20] [--runs 3] [--db-name N] [--keep]
                                           [--limit 600] [--no-loop] [--jobs-only]
Env:    BENCH_PG (admin DSN, default postgres://postgres@127.0.0.1:5432/postgres),
        DATABASE_URL (where Django stores the catalogue; default a scratch SQLite file).
"""
import argparse
import os
import pickle
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


class OutOfTime(Exception):
    pass


def in_child(work, limit: float):
    """``work()`` in a forked child: (its result, its peak RSS in MB). Killed after ``limit`` s."""
    from django.db import connections

    connections.close_all()  # the child opens its own; a shared socket would mix both conversations
    for conn in connections.all():
        getattr(conn, "close_pool", lambda: None)()  # pooled sockets too
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reader)
        code = 0
        try:
            payload = ("ok", work())
        except BaseException as exc:  # noqa: BLE001 - reported by the parent
            payload, code = ("error", repr(exc)), 1
        with os.fdopen(writer, "wb") as out:
            pickle.dump(payload, out)
        os._exit(code)
    os.close(writer)
    deadline = time.monotonic() + limit
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.wait4(pid, 0)
            os.close(reader)
            raise OutOfTime(f"killed after {limit:g} s")
        time.sleep(0.02)
    with os.fdopen(reader, "rb") as pipe:
        data = pipe.read()
    if not data:
        raise OutOfTime(f"child died (status {status}; out of memory?)")
    kind, value = pickle.loads(data)
    if kind != "ok":
        raise RuntimeError(value)
    return value, usage.ru_maxrss / 1024


def job(source) -> float:
    from datasources.models import Discovery
    from datasources.services.discovery import discovery_run

    discovery = Discovery.objects.create(data_source=source)
    started = time.perf_counter()
    done = discovery_run(discovery.pk)
    elapsed = time.perf_counter() - started
    assert done.status == "succeeded", (done.error_code, done.error_message)
    return elapsed


def alter_one_percent(database: str, tables: int, run: int, undo: bool = False):
    """Add (or drop) one column on every hundredth table: what a 1 % changed refresh finds."""
    import psycopg

    with psycopg.connect(dsn_for(database), autocommit=True) as conn:
        for t in range(run % 100, tables, 100):
            verb = f"DROP COLUMN IF EXISTS bench_{run}" if undo else f"ADD COLUMN bench_{run} integer"
            conn.execute(f"ALTER TABLE t{t:05d} {verb}")


def api_p95s(source, user, requests: int = 20) -> dict:
    from rest_framework.test import APIClient

    import gc

    client = APIClient()
    client.force_authenticate(user)
    url = f"/api/v1/data-sources/{source.pk}/schema"
    for query in ("", "?schema=public", "?search=t0042"):  # a warm worker, as gunicorn.conf.py leaves it
        client.get(url + query)
    gc.freeze()
    result = {}
    for key, query in (("api_page", ""), ("api_schema", "?schema=public"), ("api_search", "?search=t0042")):
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            response = client.get(url + query)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
        times.sort()
        result[key] = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return result


def export(source, user) -> tuple[float, int]:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    started = time.perf_counter()
    response = client.get(f"/api/v1/data-sources/{source.pk}/schema/export")
    lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
    assert response.status_code == 200, response.status_code
    return time.perf_counter() - started, lines


def read(source) -> tuple[float, int, int]:
    from datasources.connectors import connector_for

    started = time.perf_counter()
    tables = connector_for("postgresql")().discover(source)
    return time.perf_counter() - started, len(tables), sum(len(t.columns) for t in tables)


def empty_catalogue(source):
    """Delete the stored catalogue in two statements (the ORM's cascade would load 100,000 rows first)."""
    from django.db import connection, transaction

    from datasources.models import DataSource, SchemaColumn, SchemaTable

    tables, columns = SchemaTable._meta.db_table, SchemaColumn._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {columns} WHERE table_id IN (SELECT id FROM {tables} WHERE data_source_id = %s)",
                       [source.pk])
        cursor.execute(f"DELETE FROM {tables} WHERE data_source_id = %s", [source.pk])
        DataSource.objects.filter(pk=source.pk).update(schema_discovered_at=None, schema_table_counts=None)


def ours(source, user, database: str, args, run: int) -> dict:

    empty_catalogue(source)
    first, first_rss = in_child(lambda: job(source), args.limit)
    refresh, refresh_rss = in_child(lambda: job(source), args.limit)
    alter_one_percent(database, args.tables, run)
    try:
        changed, changed_rss = in_child(lambda: job(source), args.limit)
    finally:
        alter_one_percent(database, args.tables, run, undo=True)
    in_child(lambda: job(source), args.limit)  # back to the unaltered catalogue
    if args.jobs_only:
        return {"first": first, "refresh": refresh, "changed": changed, "rss_first": first_rss,
                "rss_refresh": refresh_rss, "rss_changed": changed_rss, "tables": args.tables,
                "columns": args.tables * args.columns}
    (exported, lines), export_rss = in_child(lambda: export(source, user), args.limit)
    (elapsed, tables, columns), read_rss = in_child(lambda: read(source), args.limit)
    assert lines == tables, (lines, tables)
    return {"first": first, "refresh": refresh, "changed": changed, "read": elapsed, "export": exported,
            **in_child(lambda: api_p95s(source, user), args.limit)[0],
            "rss_first": first_rss, "rss_refresh": refresh_rss, "rss_changed": changed_rss,
            "rss_export": export_rss, "rss_read": read_rss, "tables": tables, "columns": columns}


def reads_only(source, user, args) -> dict:
    """--reads-only: export and schema API p95s over the stored catalogue (discovered once if empty)."""
    if source.schema_discovered_at is None or not source.schema_tables.exists():
        first, rss = in_child(lambda: job(source), args.limit)
        print(f"first discovery {first:.3f} s, peak RSS {rss:.0f} MB, load {os.getloadavg()[0]:.2f}")
    (exported, lines), export_rss = in_child(lambda: export(source, user), args.limit)
    return {"export": exported, "rss_export": export_rss, "tables": lines, "columns": 0,
            **in_child(lambda: api_p95s(source, user), args.limit)[0], "load": os.getloadavg()[0]}


def sqlalchemy_baselines(database: str, args) -> dict:
    from sqlalchemy import create_engine, inspect

    def loop():
        engine = create_engine(dsn_for(database).replace("postgres://", "postgresql+psycopg://", 1))
        started = time.perf_counter()
        inspector = inspect(engine)  # a fresh Inspector: no cached reflection between runs
        for name in inspector.get_table_names(schema="public"):
            inspector.get_columns(name, schema="public")
            inspector.get_pk_constraint(name, schema="public")
        return time.perf_counter() - started

    def bulk():
        engine = create_engine(dsn_for(database).replace("postgres://", "postgresql+psycopg://", 1))
        started = time.perf_counter()
        inspector = inspect(engine)
        columns = inspector.get_multi_columns(schema="public")
        inspector.get_multi_pk_constraint(schema="public")
        assert columns
        return time.perf_counter() - started

    result = {}
    if args.jobs_only:
        return result
    for key, work in (("loop", loop), ("bulk", bulk)):
        if key == "loop" and (args.tables > 20000 or args.no_loop):
            continue
        try:
            result[key], result[f"rss_{key}"] = in_child(work, args.limit)
        except OutOfTime as exc:
            print(f"SQLAlchemy {key}: {exc}")
    return result


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


ROWS = [
    ("first discovery (job: read + diff + store)", "first", "rss_first"),
    ("refresh of the unchanged catalogue (job)", "refresh", "rss_refresh"),
    ("refresh with 1 % of tables changed (job)", "changed", "rss_changed"),
    ("read (connector discover: bulk queries)", "read", "rss_read"),
    ("export (GET /schema/export, streamed)", "export", "rss_export"),
    ("schema API first page, p95 of 20", "api_page", None),
    ("schema API schema=public, p95 of 20", "api_schema", None),
    ("schema API search=, p95 of 20", "api_search", None),
    ("SQLAlchemy per-table Inspector loop", "loop", "rss_loop"),
    ("SQLAlchemy bulk get_multi_* inspector", "bulk", "rss_bulk"),
    ("raw pg_catalog query (floor)", "raw", None),
]


def report(args, runs, vendor):
    def median(key):
        return statistics.median(r[key] for r in runs)

    floor = median("raw")
    print(f"\n{runs[0]['tables']} tables, {runs[0]['columns']} columns; catalogue stored in Django on {vendor}; "
          f"median of {args.runs} runs; peak RSS of the forked worker")
    print(f"| {'what':44} | {'median s':>8} | {'p95 s':>6} | {'x raw':>6} | {'peak RSS MB':>11} |")
    print(f"|{'-' * 46}|{'-' * 10}|{'-' * 8}|{'-' * 8}|{'-' * 13}|")
    for label, key, rss in ROWS:
        if any(key not in r for r in runs):
            print(f"| {label:44} | {'n/a':>8} | {'':>6} | {'':>6} | {'':>11} |")
            continue
        values = sorted(r[key] for r in runs)
        p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
        memory = f"{median(rss):11.0f}" if rss else f"{'':>11}"
        print(f"| {label:44} | {median(key):8.3f} | {p95:6.3f} | {median(key) / floor:6.1f} | {memory} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=10000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db-name", help="use (and keep) this database; built if missing")
    parser.add_argument("--keep", action="store_true", help="keep the database this run created")
    parser.add_argument("--no-loop", action="store_true", help="skip the SQLAlchemy per-table loop")
    parser.add_argument("--reads-only", action="store_true",
                        help="only the export and the schema API over the stored catalogue (no discovery timings)")
    parser.add_argument("--jobs-only", action="store_true",
                        help="only the discovery jobs and the raw floor (no export, read, API or SQLAlchemy)")
    parser.add_argument("--limit", type=float, default=600, help="seconds before a child is killed")
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
            if args.reads_only:
                source.refresh_from_db()
                result = reads_only(source, user, args)
                print(f"run {run}: " + ", ".join(f"{k} {v:.3f}" for k, v in result.items() if isinstance(v, float)))
                continue
            result = {**ours(source, user, name, args, run), **sqlalchemy_baselines(name, args),
                      "raw": in_child(lambda: raw_floor(name), args.limit)[0]}
            runs.append(result)
            print(f"run {run}: " + ", ".join(f"{k} {v:.3f}" for k, v in result.items() if isinstance(v, float))
                  + f"; load average {os.getloadavg()[0]:.2f}")
        if not args.reads_only:
            report(args, runs, connection.vendor)
    finally:
        if created and not args.keep and not args.db_name:
            from django.db import connections

            connections.close_all()
            drop_database(name)


if __name__ == "__main__":
    main()
