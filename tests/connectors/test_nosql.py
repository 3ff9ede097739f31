import json
import sys

import pytest

from datasources.connectors import connector_for
from tests.conftest import need
from tests.support import finishes_within, redis_db
from tests.support.servers import connector_error, free_port, make_source

pytestmark = pytest.mark.loopback  # refused ports and silent listeners; the tests that reach a server say so
REDIS_DB = str(redis_db(__file__))


@pytest.fixture
def redis_db(redis_server):
    return redis_server


def redis_source(**fields):
    return make_source("redis", **{"host": "127.0.0.1", "port": 6379, "database_name": REDIS_DB, **fields})


@pytest.mark.services
def test_redis_test_reports_its_version(redis_db):
    outcome = connector_for("redis")().test(redis_source())
    assert outcome.server_version == redis_db.info("server")["redis_version"]


@pytest.mark.services
def test_redis_wrong_password_is_auth_failed(redis_db):
    user = "rg_c1_user"
    redis_db.execute_command("ACL", "SETUSER", user, "on", ">right-password", "~*", "+@all")
    try:
        error = connector_error(redis_source(credentials={"username": user, "password": "Wrong-redis-pw"}))
        assert connector_for("redis")().test(redis_source(credentials={"username": user, "password": "right-password"}))
    finally:
        redis_db.execute_command("ACL", "DELUSER", user)
    assert error.code == "AUTH_FAILED"
    assert "Wrong-redis-pw" not in error.message


@pytest.mark.services
def test_redis_database_out_of_range_is_database_not_found(redis_db):
    assert connector_error(redis_source(database_name="99999")).code == "DATABASE_NOT_FOUND"


@pytest.mark.services
def test_redis_discovery_groups_sampled_keys_by_pattern_and_type(redis_db):
    for i in range(5):
        redis_db.hset(f"user:{i}:profile", mapping={"name": "n", "email": "e"})
        redis_db.set(f"session:{1000 + i}", "x")
    redis_db.rpush("queue:emails", "a")
    tables = {(t.name, t.columns[1].data_type): t for t in connector_for("redis")().discover(redis_source())}
    assert set(tables) == {("user:*:profile", "hash"), ("session:*", "string"), ("queue:emails", "list")}
    assert [c.name for c in tables[("user:*:profile", "hash")].columns] == ["key", "email", "name"]
    assert all(t.schema == f"db{REDIS_DB}" for t in tables.values())


@pytest.mark.parametrize("type_name", ["redis", "mongodb", "cassandra", "elasticsearch"])
def test_refused_port_is_host_unreachable(type_name):
    source = make_source(type_name, host="127.0.0.1", port=free_port(), database_name="0")
    assert connector_error(source).code == "HOST_UNREACHABLE"


@pytest.mark.parametrize("type_name", ["redis", "mongodb", "cassandra", "elasticsearch"])
def test_silent_server_times_out_within_the_deadline(type_name, silent):
    source = make_source(type_name, host="127.0.0.1", port=silent.port, database_name="0", connection_timeout=1,
                         connection_string=f"http://127.0.0.1:{silent.port}" if type_name == "elasticsearch" else None)
    with finishes_within(1):
        assert connector_error(source).code == "TIMEOUT"


@pytest.mark.parametrize("type_name, module", [
    ("redis", "redis"), ("mongodb", "pymongo"), ("cassandra", "cassandra.cluster"), ("dynamodb", "boto3"),
    ("elasticsearch", "httpx"),
])
def test_missing_driver_is_driver_missing(type_name, module, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)
    parent, _, child = module.rpartition(".")
    if parent in sys.modules:  # "from parent import child" finds an imported child on its parent
        monkeypatch.delattr(sys.modules[parent], child, raising=False)
    source = make_source(type_name, host="127.0.0.1", port=free_port(), database_name="0",
                         credentials={"aws_access_key_id": "a", "aws_secret_access_key": "b"} if type_name == "dynamodb" else {})
    assert connector_error(source).code == "DRIVER_MISSING"


def elasticsearch(http_server, **fields):
    return make_source("elasticsearch", connection_string=f"http://127.0.0.1:{http_server.port}",
                       host="127.0.0.1", port=http_server.port, **fields)


def test_elasticsearch_root_and_mapping(http_server):
    http_server.routes["/"] = (200, {"Content-Type": "application/json"},
                               json.dumps({"version": {"number": "8.15.0"}, "tagline": "You Know, for Search"}).encode())
    http_server.routes["/_mapping"] = (200, {"Content-Type": "application/json"}, json.dumps({
        "orders": {"mappings": {"properties": {"id": {"type": "keyword"}, "total": {"type": "double"}}}},
        "empty": {"mappings": {}},
    }).encode())
    source = elasticsearch(http_server, credentials={"username": "elastic", "password": "es-pw"})
    assert connector_for("elasticsearch")().test(source).server_version == "8.15.0"
    tables = {t.name: t for t in connector_for("elasticsearch")().discover(source)}
    assert [(c.name, c.data_type) for c in tables["orders"].columns] == [("id", "keyword"), ("total", "double")]
    assert tables["empty"].columns == []
    assert http_server.requests[0][1]["Authorization"].startswith("Basic ")


def test_elasticsearch_401_is_auth_failed(http_server):
    http_server.routes["/"] = (401, {}, b"{}")
    source = elasticsearch(http_server, credentials={"api_key": "k"})
    assert connector_error(source).code == "AUTH_FAILED"
    assert http_server.requests[0][1]["Authorization"] == "ApiKey k"


@pytest.fixture(scope="module")
def moto_dynamodb():
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        need(False, "moto server")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port())
    server.start()
    yield server._server.server_port if hasattr(server._server, "server_port") else server._port
    server.stop()


def dynamodb(port, **fields):
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region": "eu-west-1"}
    return make_source("dynamodb", connection_string=f"http://127.0.0.1:{port}", host="127.0.0.1", port=port,
                       credentials=credentials, **fields)


@pytest.mark.services
def test_dynamodb_against_moto_server(moto_dynamodb):
    import boto3

    client = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{moto_dynamodb}", region_name="eu-west-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_table(
        TableName="rg_c1_orders", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"}, {"AttributeName": "placed", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "customer", "AttributeType": "S"},
                              {"AttributeName": "placed", "AttributeType": "N"}],
    )
    source = dynamodb(moto_dynamodb)
    assert connector_for("dynamodb")().test(source).server_version
    tables = {t.name: t for t in connector_for("dynamodb")().discover(source)}
    columns = [(c.name, c.data_type, c.primary_key) for c in tables["rg_c1_orders"].columns]
    assert columns == [("customer", "string", True), ("placed", "number", True)]


def test_dynamodb_without_keys_is_auth_failed_and_never_uses_the_servers_identity():
    source = make_source("dynamodb", connection_string="http://127.0.0.1:1", host="127.0.0.1", port=1)
    assert connector_error(source).code == "AUTH_FAILED"


def test_dynamodb_refused_and_silent(silent):
    assert connector_error(dynamodb(free_port())).code == "HOST_UNREACHABLE"
    with finishes_within(1):
        assert connector_error(dynamodb(silent.port, connection_timeout=1)).code == "TIMEOUT"
