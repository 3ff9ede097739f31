import sys
import uuid

import pytest

from datasources.connectors import connector_for
from tests.support import finishes_within
from tests.support.servers import connector_error, free_port, make_source

pytestmark = pytest.mark.loopback  # refused ports and silent listeners; the tests that reach a server say so

PG = {"host": "127.0.0.1", "port": 5432, "database_name": "postgres"}
PG_LOGIN = {"username": "postgres"}
MY = {"host": "127.0.0.1", "port": 3306, "database_name": "test"}
MY_LOGIN = {"username": "root", "password": ""}


@pytest.fixture
def mariadb_scratch_database(mariadb):
    import pymysql

    name = f"rg_c1_{uuid.uuid4().hex[:8]}"
    conn = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
    with conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
        cursor.execute(f"CREATE TABLE {name}.customers (id INT PRIMARY KEY, email VARCHAR(120) NOT NULL, note TEXT)")
        cursor.execute(f"CREATE VIEW {name}.emails AS SELECT email FROM {name}.customers")
    yield name
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE {name}")
    conn.close()


@pytest.mark.services
def test_postgres_test_reports_server_version(postgres):
    import psycopg

    outcome = connector_for("postgresql")().test(make_source(**PG, credentials=PG_LOGIN))
    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres") as conn:
        actual = conn.execute("SHOW server_version").fetchone()[0]
    assert outcome.server_version == actual  # the server's own answer, not any string that starts with a digit


@pytest.mark.services
def test_redshift_speaks_to_postgres_protocol(postgres):
    outcome = connector_for("redshift")().test(make_source("redshift", **PG, credentials=PG_LOGIN))
    assert "PostgreSQL" in outcome.server_version


@pytest.mark.services
def test_postgres_unknown_role_is_auth_failed_without_the_password(postgres):
    error = connector_error(make_source(**PG, credentials={"username": "rg_c1_nobody", "password": "Hunter2-secret"}))
    assert error.code == "AUTH_FAILED"
    assert "Hunter2-secret" not in error.message


@pytest.mark.services
def test_postgres_unknown_database_is_database_not_found(postgres):
    error = connector_error(make_source(**{**PG, "database_name": "rg_c1_missing"}, credentials=PG_LOGIN))
    assert error.code == "DATABASE_NOT_FOUND"


@pytest.mark.parametrize("type_name", ["postgresql", "mysql", "mariadb", "sqlserver", "oracle", "redshift"])
def test_refused_port_is_host_unreachable(type_name):
    source = make_source(type_name, host="127.0.0.1", port=free_port(), database_name="db",
                         credentials={"username": "u", "password": "p"})
    assert connector_error(source).code == "HOST_UNREACHABLE"


@pytest.mark.parametrize("type_name", ["postgresql", "mysql", "sqlserver", "oracle"])
def test_silent_server_times_out_within_the_deadline(type_name, silent):
    source = make_source(type_name, host="127.0.0.1", port=silent.port, database_name="db",
                         credentials={"username": "u", "password": "p"}, connection_timeout=1)
    with finishes_within(1):
        assert connector_error(source).code == "TIMEOUT"


@pytest.mark.parametrize("type_name, module", [
    ("postgresql", "psycopg"), ("mysql", "pymysql"), ("sqlserver", "pymssql"), ("oracle", "oracledb"),
    ("snowflake", "snowflake.connector"), ("bigquery", "google.cloud.bigquery"),
])
def test_missing_driver_is_driver_missing(type_name, module, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)
    parent, _, child = module.rpartition(".")
    if parent in sys.modules:  # "from parent import child" finds an imported child on its parent
        monkeypatch.delattr(sys.modules[parent], child, raising=False)
    source = make_source(type_name, host="127.0.0.1", port=free_port(), database_name="db",
                         credentials={"username": "u", "service_account_json": "{}"} if type_name == "bigquery" else {"username": "u"})
    assert connector_error(source).code == "DRIVER_MISSING"


@pytest.mark.parametrize("type_name", ["snowflake", "bigquery"])
def test_warehouse_refused_port_is_host_unreachable(type_name):
    account = '{"type": "service_account", "token_uri": "https://oauth2.googleapis.com/token"}'
    source = make_source(type_name, host="127.0.0.1", port=free_port(), database_name="db",
                         credentials={"username": "u", "password": "p", "service_account_json": account})
    assert connector_error(source).code == "HOST_UNREACHABLE"


def test_snowflake_silent_server_times_out(silent):
    source = make_source("snowflake", host="127.0.0.1", port=silent.port, database_name="db",
                         credentials={"username": "u", "password": "p"}, connection_timeout=1)
    with finishes_within(1):
        assert connector_error(source).code == "TIMEOUT"


def test_bigquery_token_uri_elsewhere_is_refused():
    account = '{"type": "service_account", "token_uri": "http://169.254.169.254/token"}'
    source = make_source("bigquery", host="127.0.0.1", port=free_port(), database_name="p",
                         credentials={"service_account_json": account})
    assert connector_error(source).code == "DESTINATION_NOT_ALLOWED"


@pytest.mark.services
def test_postgres_discovery_lists_real_tables_views_and_keys(pg_scratch_schema):
    source = make_source(**PG, schema_name=pg_scratch_schema, credentials=PG_LOGIN)
    tables = {t.name: t for t in connector_for("postgresql")().discover(source)}
    assert set(tables) == {"orders", "lines", "big_orders"}
    assert tables["big_orders"].kind == "view" and tables["orders"].kind == "table"
    orders = [(c.name, c.data_type, c.nullable, c.primary_key, c.position) for c in tables["orders"].columns]
    assert orders == [
        ("id", "bigint", False, True, 1), ("customer", "text", False, False, 2),
        ("total", "numeric(10,2)", True, False, 3), ("placed_at", "timestamp with time zone", True, False, 5),
    ]  # 5: the database's ordinal position, after a dropped column
    assert [c.name for c in tables["lines"].columns if c.primary_key] == ["order_id", "line"]
    assert {t.schema for t in tables.values()} == {pg_scratch_schema}


@pytest.mark.services
def test_postgres_discovery_without_schema_reads_every_user_schema(pg_scratch_schema):
    tables = connector_for("postgresql")().discover(make_source(**PG, credentials=PG_LOGIN))
    schemas = {t.schema for t in tables}
    assert pg_scratch_schema in schemas
    assert not schemas & {"pg_catalog", "information_schema"}


@pytest.mark.services
def test_discovery_runs_one_query_per_kind_of_object(pg_scratch_schema):
    import psycopg
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True) as conn:
        for i in range(40):
            conn.execute(f"CREATE TABLE {pg_scratch_schema}.t{i} (id int PRIMARY KEY, v text)")
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        tables = connector_for("postgresql")().discover(make_source(**PG, schema_name=pg_scratch_schema, credentials=PG_LOGIN))
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert len(tables) == 43
    catalogue = [s for s in statements if "pg_catalog.pg_" in s and "set_config" not in s]
    assert len(catalogue) == 2  # relations (with their primary keys) and columns


@pytest.mark.services
def test_mariadb_test_reports_server_version(mariadb):
    import pymysql

    with pymysql.connect(host=MY["host"], port=MY["port"], user="root", password="") as conn, conn.cursor() as cursor:
        cursor.execute("SELECT VERSION()")
        real_version = cursor.fetchone()[0]
    outcome = connector_for("mariadb")().test(make_source("mariadb", **MY, credentials=MY_LOGIN))
    assert real_version.split("-")[0] in outcome.server_version


@pytest.mark.services
def test_mariadb_wrong_password_is_auth_failed_without_the_password(mariadb):
    error = connector_error(make_source("mysql", **MY, credentials={"username": "root", "password": "Wr0ng-secret"}))
    assert error.code == "AUTH_FAILED"
    assert "Wr0ng-secret" not in error.message


@pytest.mark.services
def test_mariadb_unknown_database_is_database_not_found(mariadb):
    error = connector_error(make_source("mariadb", **{**MY, "database_name": "rg_c1_missing"}, credentials=MY_LOGIN))
    assert error.code == "DATABASE_NOT_FOUND"


@pytest.mark.services
def test_mariadb_discovery_lists_the_database_tables(mariadb_scratch_database):
    source = make_source("mariadb", **{**MY, "database_name": mariadb_scratch_database}, credentials=MY_LOGIN)
    tables = {t.name: t for t in connector_for("mariadb")().discover(source)}
    assert set(tables) == {"customers", "emails"}
    assert tables["emails"].kind == "view"
    columns = [(c.name, c.data_type, c.nullable, c.primary_key, c.position) for c in tables["customers"].columns]
    assert columns == [("id", "int(11)", False, True, 1), ("email", "varchar(120)", False, False, 2),
                       ("note", "text", True, False, 3)]


@pytest.mark.services
def test_connection_string_supplies_login_and_database(postgres):
    source = make_source(connection_string="postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable",
                         host="127.0.0.1", port=5432, database_name="postgres")
    assert connector_for("postgresql")().test(source).server_version
