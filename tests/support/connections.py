"""The machine's PostgreSQL for the connection and discovery tests: a probe, scratch databases, a body."""
import uuid
from contextlib import contextmanager

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}


def postgres_reachable() -> bool:
    import psycopg

    try:
        with psycopg.connect(dbname="postgres", connect_timeout=3, **PG):
            return True
    except psycopg.Error:
        return False


@contextmanager
def scratch_postgres_database(ddl: list[str]):
    """A throwaway database on the machine's PostgreSQL, built with ``ddl``, dropped afterwards."""
    import psycopg

    name = f"rg_c3_scratch_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dbname="postgres", autocommit=True, **PG) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(dbname=name, autocommit=True, **PG) as conn:
            for statement in ddl:
                conn.execute(statement)
        yield name
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **PG) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_body(workspace, **overrides) -> dict:
    body = {
        "workspace_id": workspace.pk,
        "name": "Local PostgreSQL",
        "type": "postgresql",
        "host": PG["host"],
        "port": PG["port"],
        "database_name": "postgres",
        "connection_timeout": 5,
        "schema_auto_refresh": False,
        "credentials": {"username": PG["user"], "password": "not-checked-by-trust-auth"},
    }
    body.update(overrides)
    return body
