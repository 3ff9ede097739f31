"""Through the HTTP API against the machine's MariaDB and Redis, and PostgreSQL through a real SSH tunnel."""
import uuid

import pytest

from datasources.models import DataSource
from datasources.services.deadline import GRACE_SECONDS
from tests.support import api_create, finishes_within, need, post_test, redis_db
from tests.support.connections import scratch_postgres_database
from tests.support.servers import free_port

pytestmark = [pytest.mark.django_db, pytest.mark.services]
REDIS_DB = redis_db(__file__)


def discovered(api, source_id, capture) -> dict:
    with capture(execute=True):
        queued = api.post(f"/api/v1/data-sources/{source_id}/discover-schema", format="json").json()["data"]
    status = api.get(f"/api/v1/data-sources/{source_id}/discoveries/{queued['discovery_id']}").json()["data"]
    assert status["status"] == "succeeded", status
    schema = api.get(f"/api/v1/data-sources/{source_id}/schema", {"page_size": 100}).json()["data"]
    return {(s["name"], t["name"]): t for s in schema["schemas"] for t in s["tables"]}


# --- MariaDB ---------------------------------------------------------------------------------

def mariadb_connection():
    import pymysql

    return pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", database="test",
                           connect_timeout=3, autocommit=True)


@pytest.fixture
def mariadb_table():
    try:
        conn = mariadb_connection()
    except Exception:  # noqa: BLE001 - any failure means the server is not usable here
        conn = None
    need(conn is not None, "MariaDB on 127.0.0.1:3306 (root, empty password, database test)")
    name = f"c3_{uuid.uuid4().hex[:8]}"
    with conn.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {name} (id INT PRIMARY KEY, label VARCHAR(40) NULL, qty INT NOT NULL)")
    yield name
    with conn.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
    conn.close()


def mariadb_body(workspace, **overrides):
    return {
        "workspace_id": workspace.pk, "name": f"MariaDB {uuid.uuid4().hex[:6]}", "type": "mariadb",
        "host": "127.0.0.1", "port": 3306, "database_name": "test", "connection_timeout": 3,
        "schema_auto_refresh": False, "credentials": {"username": "root", "password": ""}, **overrides,
    }


def test_mariadb_succeeds_then_wrong_password_counts_failures(api, workspace, mariadb_table):
    source_id = api_create(api, mariadb_body(workspace))["id"]
    data = post_test(api, source_id).json()["data"]
    assert data["status"] == "succeeded" and "MariaDB" in data["server_version"], data
    assert DataSource.objects.get(pk=source_id).status == "active"
    DataSource.objects.filter(pk=source_id).update(credentials={"username": "root", "password": "Wrong-pw-c3"})
    for expected in (1, 2):
        response = post_test(api, source_id)
        assert response.json()["data"]["error_code"] == "AUTH_FAILED", response.json()
        assert "Wrong-pw-c3" not in response.content.decode()
        assert DataSource.objects.get(pk=source_id).failure_count == expected


def test_mariadb_wrong_port_and_silent_port(api, workspace, mariadb_table, silent):
    closed = api_create(api, mariadb_body(workspace, port=free_port()))["id"]
    assert post_test(api, closed).json()["data"]["error_code"] == "HOST_UNREACHABLE"
    quiet = api_create(api, mariadb_body(workspace, port=silent.port, connection_timeout=1))["id"]
    with finishes_within(1 + GRACE_SECONDS):
        assert post_test(api, quiet).json()["data"]["error_code"] == "TIMEOUT"
    assert DataSource.objects.get(pk=quiet).status == "error"


def test_mariadb_discovery_lists_the_real_table(api, workspace, mariadb_table, django_capture_on_commit_callbacks):
    source_id = api_create(api, mariadb_body(workspace))["id"]
    tables = discovered(api, source_id, django_capture_on_commit_callbacks)
    columns = tables[("test", mariadb_table)]["columns"]
    assert [(c["name"], c["nullable"], c["primary_key"]) for c in columns] == [
        ("id", False, True), ("label", True, False), ("qty", False, False),
    ]


# --- Redis -----------------------------------------------------------------------------------

@pytest.fixture
def redis_keys(redis_server):
    client = redis_server
    prefix = f"c3-keys-{uuid.uuid4().hex[:4]}"  # not all hex: hex ids are folded into "*"
    client.hset(f"{prefix}:user:1", mapping={"name": "Ada", "email": "ada@example.com"})
    client.hset(f"{prefix}:user:2", mapping={"name": "Bob", "email": "bob@example.com"})
    yield prefix
    client.delete(f"{prefix}:user:1", f"{prefix}:user:2")


def redis_body(workspace, **overrides):
    return {
        "workspace_id": workspace.pk, "name": f"Redis {uuid.uuid4().hex[:6]}", "type": "redis",
        "host": "127.0.0.1", "port": 6379, "database_name": str(REDIS_DB), "connection_timeout": 3,
        "schema_auto_refresh": False, "credentials": {}, **overrides,
    }


def test_redis_test_and_discovery(api, workspace, redis_keys, django_capture_on_commit_callbacks):
    source_id = api_create(api, redis_body(workspace))["id"]
    data = post_test(api, source_id).json()["data"]
    assert data["status"] == "succeeded" and data["server_version"], data
    tables = discovered(api, source_id, django_capture_on_commit_callbacks)
    users = tables[(f"db{REDIS_DB}", f"{redis_keys}:user:*")]
    assert [c["name"] for c in users["columns"]] == ["key", "email", "name"]


def test_redis_wrong_port_and_silent_port(api, workspace, redis_keys, silent):
    refused = api_create(api, redis_body(workspace, port=free_port()))["id"]
    assert post_test(api, refused).json()["data"]["error_code"] == "HOST_UNREACHABLE"
    quiet = api_create(api, redis_body(workspace, port=silent.port, connection_timeout=1))["id"]
    with finishes_within(1 + GRACE_SECONDS):
        assert post_test(api, quiet).json()["data"]["error_code"] == "TIMEOUT"


# --- PostgreSQL through a real SSH tunnel ------------------------------------------------------

def test_postgres_through_an_ssh_tunnel_tests_and_discovers(
    api, workspace, sshd, postgres, django_capture_on_commit_callbacks,
):
    with scratch_postgres_database(["CREATE TABLE tunnelled (id int PRIMARY KEY, note text)"]) as name:
        body = {
            "workspace_id": workspace.pk, "name": "Tunnelled PostgreSQL", "type": "postgresql",
            "host": "127.0.0.1", "port": 5432, "database_name": name, "connection_timeout": 5,
            "schema_auto_refresh": False, **sshd.fields(),
            "credentials": {"username": "postgres", "ssh_private_key": sshd.keys["plain"]},
        }
        source_id = api_create(api, body)["id"]
        data = post_test(api, source_id).json()["data"]
        assert data["status"] == "succeeded", data
        tables = discovered(api, source_id, django_capture_on_commit_callbacks)
        assert [c["name"] for c in tables[("public", "tunnelled")]["columns"]] == ["id", "note"]
        DataSource.objects.filter(pk=source_id).update(
            credentials={"username": "postgres", "ssh_password": "Wrong-ssh-c3"})
        response = post_test(api, source_id)
        assert response.json()["data"]["error_code"] == "AUTH_FAILED"
        assert "Wrong-ssh-c3" not in response.content.decode()
