"""POST /api/v1/data-sources: cross-field rules (required fields, connection strings, SSH, file_path)."""
import pytest

from datasources.connectors import CONNECTORS
from datasources.models import DataSource
from tests.conftest import client_for
from tests.api.test_create_validation import assert_rejected, post

SQL_TYPES = sorted(t for t, c in CONNECTORS.items() if c.family == "sql")
# NoSQL types whose connector asks for less than DESIGN.md's host+port+database_name.
NOSQL_HOST_PORT_TYPES = ["cassandra", "elasticsearch", "redis"]
FILE_TYPES = ["csv", "excel", "json", "parquet", "orc", "delta_lake", "iceberg", "hudi", "s3"]


def bare(spec_body, **changes):
    """The spec body without host, port and database_name."""
    body = {**spec_body, "host": None, "port": None, "database_name": None}
    body.update(changes)
    return body


# --- database types: host + port + database_name, or connection_string ------------------------

@pytest.mark.parametrize("type_name", SQL_TYPES + ["mongodb"])
def test_database_type_without_address_is_400(api, spec_body, type_name):
    response = post(api, bare(spec_body, type=type_name, credentials={}))

    assert_rejected(response, "host")
    assert {"host", "port", "database_name"} <= set(response.json()["error"]["details"])


@pytest.mark.parametrize("type_name", NOSQL_HOST_PORT_TYPES)
def test_nosql_type_without_host_and_port_is_400(api, spec_body, type_name):
    response = post(api, bare(spec_body, type=type_name, credentials={}))

    assert_rejected(response, "host")
    assert {"host", "port"} <= set(response.json()["error"]["details"])


@pytest.mark.parametrize("missing", ["host", "port", "database_name"])
def test_each_address_part_is_required(api, spec_body, missing):
    response = post(api, {**spec_body, missing: None})

    assert_rejected(response, missing)
    assert set(response.json()["error"]["details"]) == {missing}


def test_blank_host_counts_as_missing(api, spec_body):
    assert_rejected(post(api, {**spec_body, "host": "   "}), "host")


def test_file_types_must_be_in_the_enum_the_spec_lists():
    assert sorted(t for t, c in CONNECTORS.items() if c.required == (("file_path",),)) == sorted(FILE_TYPES)


# --- connection_string ---------------------------------------------------------------------------

def test_connection_string_fills_host_port_and_database(api, spec_body):
    cs = "postgresql://dbuser:cs-pw@pg.internal:6543/analytics?sslmode=require"
    response = post(api, bare(spec_body, connection_string=cs))

    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert (data["host"], data["port"], data["database_name"]) == ("pg.internal", 6543, "analytics")
    assert DataSource.objects.get().connection_string == cs
    assert "connection_string" not in data and "cs-pw" not in response.content.decode()


def test_given_host_is_not_overwritten_by_the_connection_string(api, spec_body):
    cs = "postgresql://u:p@other.example.com:6543/otherdb"
    response = post(api, {**spec_body, "connection_string": cs})

    data = response.json()["data"]
    assert (data["host"], data["port"], data["database_name"]) == ("db.example.com", 5432, "production")


@pytest.mark.parametrize("type_name,cs", [
    ("mysql", "mysql+pymysql://u:p@my.example.com:3306/shop"),
    ("mongodb", "mongodb://u:p@mongo.example.com:27017/app"),
    ("redis", "redis://:p@cache.example.com:6379/0"),
    ("http_api", "https://api.example.com/v2"),
])
def test_connection_string_of_the_right_scheme_is_accepted(api, spec_body, type_name, cs):
    response = post(api, bare(spec_body, type=type_name, connection_string=cs, credentials={}))
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("type_name,cs", [
    ("postgresql", "mysql://u:p@h:3306/db"),
    ("postgresql", "http://h/db"),
    ("mysql", "postgresql://u:p@h:5432/db"),
    ("postgresql", "db.example.com:5432/production"),
    ("postgresql", "postgresql://h:notaport/db"),
    ("postgresql", "postgresql:///db"),
    ("postgresql", "postgresql://u:p@h/db\r\nx"),
    ("other", "postgresql://u:p@h:5432/db"),
    ("postgresql", "postgresql://u:p@h:0/db"),
    ("postgresql", "postgresql://u:p@" + "h" * 256 + ":5432/db"),
    ("postgresql", "postgresql://u:p@h:5432/" + "d" * 256),
])
def test_connection_string_of_the_wrong_shape_is_400(api, spec_body, type_name, cs):
    response = post(api, bare(spec_body, type=type_name, connection_string=cs, credentials={}))

    assert_rejected(response, "connection_string")
    assert "host" not in response.json()["error"]["details"]  # no "required" noise on top


@pytest.mark.parametrize("cs", [
    "postgresql://u:p@h:5432/db?sslkey=/etc/ssl/private/server.key",
    "postgresql://u:p@h:5432/db?sslrootcert=/root/ca.pem",
    "postgresql://u:p@h:5432/db?passfile=/root/.pgpass",
    "postgresql://u:p@h:5432/db?service=prod",
    "postgresql://u:p@h:5432/db?host=/var/run/postgresql",
    "postgresql://u:p@%2Fvar%2Frun%2Fpostgresql/db",
    "mysql://u:p@h:3306/db?local_infile=1",
    "mysql://u:p@h:3306/db?Local-Infile=1",
    "mysql://u:p@h:3306/db?read_default_file=/etc/mysql/my.cnf",
    "mysql://u:p@h:3306/db?unix_socket=/run/mysqld/mysqld.sock",
])
def test_connection_string_options_that_read_local_files_are_refused(api, spec_body, cs):
    type_name = cs.split(":", 1)[0]
    response = post(api, bare(spec_body, type=type_name, connection_string=cs, credentials={}))
    assert_rejected(response, "connection_string")


def test_connection_string_error_never_echoes_the_password(api, spec_body):
    cs = "postgresql://dbuser:leaky-pw-77@h:5432/db?sslkey=/x"
    response = post(api, bare(spec_body, connection_string=cs))

    assert response.status_code == 400
    assert "leaky-pw-77" not in response.content.decode()


def test_blank_connection_string_is_no_connection_string(api, spec_body):
    assert_rejected(post(api, bare(spec_body, connection_string="")), "host")


# --- SSH tunnel ----------------------------------------------------------------------------------

def tunnel(spec_body, **changes):
    body = {**spec_body, "use_ssh_tunnel": True, "ssh_host": "bastion.example.com", "ssh_username": "jump"}
    body["credentials"] = {**spec_body["credentials"], "ssh_private_key": "-----BEGIN KEY-----"}
    body.update(changes)
    return body


def test_tunnel_with_key_is_created_with_its_fields(api, spec_body):
    response = post(api, tunnel(spec_body, ssh_port=2222, ssh_local_port=15432))

    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert data["use_ssh_tunnel"] is True
    assert (data["ssh_host"], data["ssh_port"], data["ssh_username"]) == ("bastion.example.com", 2222, "jump")
    assert data["ssh_local_port"] == 15432
    assert "BEGIN KEY" not in response.content.decode()


def test_tunnel_with_password_instead_of_key(api, spec_body):
    body = tunnel(spec_body)
    body["credentials"] = {"username": "dbuser", "ssh_password": "jump-pw"}
    assert post(api, body).status_code == 201


@pytest.mark.parametrize("field", ["ssh_host", "ssh_username"])
def test_tunnel_needs_host_and_username(api, spec_body, field):
    assert_rejected(post(api, tunnel(spec_body, **{field: None})), field)


def test_tunnel_needs_a_key_or_password(api, spec_body):
    body = tunnel(spec_body)
    body["credentials"] = {"username": "dbuser", "password": "db-pw", "ssh_passphrase": "only-passphrase"}
    assert_rejected(post(api, body), "credentials")


def test_without_tunnel_ssh_fields_are_stored_null(api, spec_body):
    body = tunnel(spec_body, use_ssh_tunnel=False, ssh_port=2222, ssh_local_port=15432)
    response = post(api, body)

    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert [data[f] for f in ("ssh_host", "ssh_port", "ssh_username", "ssh_local_port")] == [None] * 4
    source = DataSource.objects.get()
    assert [source.ssh_host, source.ssh_port, source.ssh_username, source.ssh_local_port] == [None] * 4


# --- file_path -----------------------------------------------------------------------------------

def file_body(path, type_name="csv"):
    return {"name": "Sales", "type": type_name, "file_path": path, "credentials": {}}


@pytest.mark.parametrize("type_name", FILE_TYPES)
def test_file_types_require_file_path(api, type_name):
    assert_rejected(post(api, {"name": "f", "type": type_name, "credentials": {}}), "file_path")


@pytest.mark.parametrize("type_name", FILE_TYPES)
def test_file_types_are_created_with_a_stored_file(api, stored_file, type_name):
    response = post(api, file_body(stored_file.name, type_name))

    assert response.status_code == 201, response.json()
    assert response.json()["data"]["file_path"] == stored_file.name


@pytest.mark.parametrize("path", [
    "", "sales.csv", "/organizations/1/files/1/sales.csv", "organizations/1/files/1/",
    "organizations/x/files/1/sales.csv", "organizations/1/files/1/sub/sales.csv",
    "organizations/1/files/1/../../../etc/passwd", "s3://bucket/sales.csv",
])
def test_malformed_file_path_is_400(api, stored_file, path):
    assert_rejected(post(api, file_body(path)), "file_path")


def test_file_path_of_another_org_is_the_same_400_as_a_missing_file(api, org, other_stored_file):
    foreign = post(api, file_body(other_stored_file.name))
    parts = other_stored_file.name.split("/")
    missing = post(api, file_body(f"organizations/{org.pk}/files/{int(parts[3]) + 100}/sales.csv"))

    assert foreign.status_code == missing.status_code == 400
    assert foreign.json() == missing.json()
    assert not DataSource.objects.exists()


def test_other_org_can_use_its_own_file(oscar, other_stored_file):
    response = client_for(oscar).post("/api/v1/data-sources", file_body(other_stored_file.name), format="json")
    assert response.status_code == 201, response.json()


def test_file_path_naming_our_org_but_another_orgs_file_id_is_400(api, org, other_stored_file):
    file_id = other_stored_file.name.split("/")[3]
    assert_rejected(post(api, file_body(f"organizations/{org.pk}/files/{file_id}/sales.csv")), "file_path")


def test_all_problems_are_reported_at_once(api, spec_body):
    body = bare(spec_body, use_ssh_tunnel=True, ssh_host=None, ssh_username=None)
    body["credentials"] = {"bogus": "x"}
    details = post(api, body).json()["error"]["details"]

    assert {"credentials", "host", "ssh_host", "ssh_username"} <= set(details)
