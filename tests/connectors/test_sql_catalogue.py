"""The SQL catalogue as the database says it, every kind of relation, on real PostgreSQL and MariaDB."""
import uuid

import pytest

from datasources.connectors import connector_for
from tests.conftest import need
from tests.support.connections import scratch_postgres_database
from tests.support.servers import make_source, port_open

pytestmark = pytest.mark.services

PG_DDL = [
    "CREATE SCHEMA edge",
    "CREATE TYPE edge.mood AS ENUM ('sad', 'happy')",
    "CREATE DOMAIN public.posint AS int NOT NULL CHECK (VALUE > 0)",
    """CREATE TABLE public.orders (id bigserial PRIMARY KEY, gone int, qty public.posint,
        mood edge.mood DEFAULT 'happy', note text DEFAULT 'n/a', twice bigint GENERATED ALWAYS AS (qty * 2) STORED,
        moods edge.mood[])""",
    "ALTER TABLE public.orders DROP COLUMN gone",
    "COMMENT ON TABLE public.orders IS 'Customer orders'",
    "COMMENT ON COLUMN public.orders.note IS 'Free text'",
    "CREATE VIEW public.order_view AS SELECT id, note FROM public.orders",
    "CREATE MATERIALIZED VIEW public.order_totals AS SELECT count(*) AS n FROM public.orders",
    "CREATE TABLE public.events (at date NOT NULL, v int) PARTITION BY RANGE (at)",
    "CREATE TABLE public.events_2024 PARTITION OF public.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
    "CREATE TABLE public.events_2025 PARTITION OF public.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
    "CREATE TABLE public.events_other PARTITION OF public.events DEFAULT",
    "CREATE FOREIGN DATA WRAPPER rg_fdw",
    "CREATE SERVER rg_server FOREIGN DATA WRAPPER rg_fdw",
    "CREATE FOREIGN TABLE public.remote (a int) SERVER rg_server",
    "CREATE SEQUENCE public.counter",
]


@pytest.fixture
def pg_database(postgres):
    with scratch_postgres_database(PG_DDL) as name:
        yield name


def pg_discover(database, **extra):
    source = make_source(host="127.0.0.1", port=5432, database_name=database, credentials={"username": "postgres"},
                         **extra)
    return {t.name: t for t in connector_for("postgresql")().discover(source)}


def columns_of(table):
    return [(c.name, c.data_type, c.nullable, c.primary_key, c.position, c.default, c.comment, c.generated)
            for c in table.columns]


def test_postgres_catalogue_is_exactly_what_the_database_says(pg_database):
    tables = pg_discover(pg_database)
    assert {name: (t.kind, t.partition_count) for name, t in tables.items()} == {
        "orders": ("table", None), "order_view": ("view", None), "order_totals": ("materialized_view", None),
        "events": ("partitioned_table", 3), "remote": ("foreign_table", None),
    }  # partitions and the sequence are not relations here
    assert tables["orders"].comment == "Customer orders"
    assert columns_of(tables["orders"]) == [
        ("id", "bigint", False, True, 1, "nextval('public.orders_id_seq'::regclass)", None, None),
        ("qty", "public.posint", False, False, 3, None, None, None),
        ("mood", "edge.mood", True, False, 4, "'happy'::edge.mood", None, None),
        ("note", "text", True, False, 5, "'n/a'::text", "Free text", None),
        ("twice", "bigint", True, False, 6, None, None, "((qty)::integer * 2)"),
        ("moods", "edge.mood[]", True, False, 7, None, None, None),
    ]
    assert [c.name for c in tables["events"].columns] == ["at", "v"]


def test_postgres_type_names_do_not_depend_on_the_search_path(pg_database):
    import psycopg

    with psycopg.connect(host="127.0.0.1", user="postgres", dbname=pg_database, autocommit=True) as conn:
        conn.execute("ALTER ROLE postgres IN DATABASE " + pg_database + " SET search_path = edge, public")
    try:
        columns = {c.name: c.data_type for c in pg_discover(pg_database)["orders"].columns}
    finally:
        with psycopg.connect(host="127.0.0.1", user="postgres", dbname=pg_database, autocommit=True) as conn:
            conn.execute("ALTER ROLE postgres IN DATABASE " + pg_database + " RESET search_path")
    assert (columns["mood"], columns["qty"], columns["moods"]) == ("edge.mood", "public.posint", "edge.mood[]")


def test_postgres_positions_match_information_schema(pg_database):
    import psycopg

    with psycopg.connect(host="127.0.0.1", user="postgres", dbname=pg_database) as conn:
        expected = conn.execute(
            "SELECT column_name, ordinal_position, is_nullable = 'YES' FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = 'orders' ORDER BY ordinal_position").fetchall()
    assert [(c.name, c.position, c.nullable) for c in pg_discover(pg_database)["orders"].columns] == expected


# --- MariaDB ------------------------------------------------------------------------------------

@pytest.fixture
def maria_database():
    need(port_open(3306), "MariaDB on 127.0.0.1:3306")
    import pymysql

    name = f"rg_i8_{uuid.uuid4().hex[:8]}"
    conn = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
    statements = [
        f"CREATE DATABASE {name}",
        f"""CREATE TABLE {name}.items (id INT PRIMARY KEY COMMENT 'the key', price DECIMAL(10,2) NOT NULL DEFAULT 0,
            secret VARCHAR(20) INVISIBLE, doubled DECIMAL(11,2) AS (price * 2) VIRTUAL) COMMENT 'Things we sell'""",
        f"ALTER TABLE {name}.items ADD COLUMN gone INT AFTER id",
        f"ALTER TABLE {name}.items DROP COLUMN gone",
        f"CREATE VIEW {name}.cheap AS SELECT id FROM {name}.items WHERE price < 10",
        f"CREATE SEQUENCE {name}.ticket",
        f"CREATE TABLE {name}.audited (id INT PRIMARY KEY, v INT) WITH SYSTEM VERSIONING",
        f"""CREATE TABLE {name}.logs (id INT, at DATE) PARTITION BY RANGE (YEAR(at))
            (PARTITION p2024 VALUES LESS THAN (2025), PARTITION pmax VALUES LESS THAN MAXVALUE)""",
    ]
    with conn.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    yield name
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE {name}")
    conn.close()


def test_mariadb_catalogue_lists_tables_views_and_versioned_tables_but_not_sequences(maria_database):
    source = make_source("mariadb", host="127.0.0.1", port=3306, database_name=maria_database,
                         credentials={"username": "root", "password": ""})
    tables = {t.name: t for t in connector_for("mariadb")().discover(source)}
    assert {name: (t.kind, t.partition_count) for name, t in tables.items()} == {
        "items": ("table", None), "cheap": ("view", None), "audited": ("table", None),
        "logs": ("partitioned_table", 2),
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
    assert [c.name for c in tables["audited"].columns] == ["id", "v"]
