"""POST /api/v1/data-sources: each field's JSON type, bounds and normalisation."""
import json

import pytest

from datasources.connectors import CONNECTORS
from datasources.models import DataSource

URL = "/api/v1/data-sources"


def post(api, body):
    return api.post(URL, body, format="json")


def assert_rejected(response, field):
    """A 400 in the envelope naming ``field``, and nothing written."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == "BAD_REQUEST"
    named = {key.split("[")[0] for key in body["error"]["details"]}  # list errors name the index: tags[0]
    assert field in named, body["error"]
    assert not DataSource.objects.exists()


# --- name ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["", "   ", "\t\n", None, 5, ["x"], "a" * 256, "nul\x00byte"])
def test_bad_name_is_400(api, spec_body, name):
    assert_rejected(post(api, {**spec_body, "name": name}), "name")


def test_missing_name_is_400(api, spec_body):
    del spec_body["name"]
    assert_rejected(post(api, spec_body), "name")


def test_name_that_case_folding_lengthens_is_accepted(api, spec_body):
    # "ß" folds to "ss": the compared form is longer than the 255-character column.
    response = post(api, {**spec_body, "name": "ß" * 255})

    assert response.status_code == 201, response.json()
    assert response.json()["data"]["name"] == "ß" * 255


def test_name_is_trimmed_and_255_characters_fit(api, spec_body):
    response = post(api, {**spec_body, "name": "  " + "n" * 255 + "  "})

    assert response.status_code == 201, response.json()
    assert response.json()["data"]["name"] == "n" * 255
    assert DataSource.objects.get().name == "n" * 255


# --- type ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["nosuch", "PostgreSQL", "", None, 1])
def test_unknown_type_is_400(api, spec_body, value):
    assert_rejected(post(api, {**spec_body, "type": value}), "type")


def test_the_type_enum_is_exactly_the_spec():
    assert set(CONNECTORS) == {
        "postgresql", "mysql", "mariadb", "sqlserver", "oracle", "snowflake", "bigquery", "redshift",
        "mongodb", "elasticsearch", "redis", "cassandra", "dynamodb",
        "csv", "excel", "json", "parquet", "orc", "delta_lake", "iceberg", "hudi", "s3",
        "http_api", "other",
    }


def minimal_body(type_name, file_path):
    body = {"name": f"src {type_name}", "type": type_name, "credentials": {}}
    family = CONNECTORS[type_name].required
    if family == (("file_path",),):
        body["file_path"] = file_path
    elif type_name == "http_api":
        body["host"] = "api.example.com"
    elif family:
        body.update(host="db.example.com", port=1234, database_name="main")
    return body


@pytest.mark.parametrize("type_name", sorted(CONNECTORS))
def test_every_type_can_be_created_with_its_required_fields(api, stored_file, type_name):
    response = post(api, minimal_body(type_name, stored_file.name))

    assert response.status_code == 201, response.json()
    assert response.json()["data"]["type"] == type_name


# --- strict JSON types --------------------------------------------------------------------------

@pytest.mark.parametrize("field,value", [
    ("port", "5432"), ("port", 5432.5), ("port", True), ("port", [5432]),
    ("ssh_port", "22"), ("ssh_local_port", "2022"), ("connection_pool_size", "5"),
    ("connection_timeout", "30"), ("query_timeout", "300"), ("max_retries", "3"),
    ("schema_refresh_interval", "3600"), ("workspace_id", "1"), ("workspace_id", True),
    ("use_ssh_tunnel", "false"), ("use_ssh_tunnel", 0), ("schema_auto_refresh", "true"),
    ("schema_auto_refresh", 1), ("description", 5), ("host", 12), ("database_name", False),
    ("schema_name", ["public"]), ("connection_string", {"a": 1}), ("file_path", 7),
    ("ssh_host", 1), ("ssh_username", True), ("metadata", []), ("metadata", "{}"),
    ("tags", "production"), ("tags", [1, 2]), ("tags", [None]), ("credentials", "user:pw"),
    ("credentials", ["dbuser"]), ("credentials", None),
])
def test_wrong_json_type_is_400(api, spec_body, field, value):
    assert_rejected(post(api, {**spec_body, field: value}), field)


@pytest.mark.parametrize("key,value", [("password", 1234), ("username", True), ("api_key", {"k": "v"})])
def test_credential_values_must_be_strings(api, spec_body, key, value):
    spec_body["credentials"][key] = value
    assert_rejected(post(api, spec_body), "credentials")


def test_missing_credentials_is_400(api, spec_body):
    del spec_body["credentials"]
    assert_rejected(post(api, spec_body), "credentials")


NULL_TAKES_DEFAULT = {
    "use_ssh_tunnel": False, "connection_pool_size": 5, "connection_timeout": 30, "query_timeout": 300,
    "max_retries": 3, "schema_auto_refresh": True, "schema_refresh_interval": 3600,
    "metadata": {}, "tags": [],
}


def test_null_for_a_field_with_a_default_takes_the_default(api, spec_body):
    response = post(api, {**spec_body, **{field: None for field in NULL_TAKES_DEFAULT}})

    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert {field: data[field] for field in NULL_TAKES_DEFAULT} == NULL_TAKES_DEFAULT


def test_null_ssh_port_with_a_tunnel_takes_22(api, spec_body):
    spec_body["credentials"]["ssh_private_key"] = "-----BEGIN OPENSSH PRIVATE KEY-----"
    body = {**spec_body, "use_ssh_tunnel": True, "ssh_host": "bastion", "ssh_username": "u", "ssh_port": None}

    response = post(api, body)
    assert response.status_code == 201, response.json()
    assert response.json()["data"]["ssh_port"] == 22


def test_values_other_than_defaults_are_kept(api, spec_body):
    sent = {"connection_pool_size": 20, "connection_timeout": 10, "query_timeout": 60, "max_retries": 0,
            "schema_auto_refresh": False, "schema_refresh_interval": 60, "metadata": {"team": "bi"}}
    response = post(api, {**spec_body, **sent})

    assert response.status_code == 201, response.json()
    assert {k: response.json()["data"][k] for k in sent} == sent


# --- bounds -------------------------------------------------------------------------------------

BOUNDS = [
    ("port", 1, 65535), ("ssh_port", 1, 65535), ("ssh_local_port", 1024, 65535),
    ("connection_pool_size", 1, 100), ("connection_timeout", 1, 3600), ("query_timeout", 1, 86400),
    ("max_retries", 0, 10), ("schema_refresh_interval", 60, 2592000),
]


@pytest.mark.parametrize("value", [0, -1])
def test_workspace_id_must_be_positive(api, spec_body, value):
    assert_rejected(post(api, {**spec_body, "workspace_id": value}), "workspace_id")


@pytest.mark.parametrize("field,low,high", BOUNDS)
def test_value_just_outside_a_bound_is_400(api, spec_body, field, low, high):
    assert_rejected(post(api, {**spec_body, field: low - 1}), field)
    assert_rejected(post(api, {**spec_body, field: high + 1}), field)


@pytest.mark.parametrize("field,low,high", BOUNDS)
def test_values_on_a_bound_are_accepted(api, spec_body, field, low, high):
    for value in (low, high):
        response = post(api, {**spec_body, "name": f"{field}={value}", field: value})
        assert response.status_code == 201, (value, response.json())
    assert DataSource.objects.count() == 2


def test_description_up_to_2000_characters(api, spec_body):
    assert_rejected(post(api, {**spec_body, "description": "d" * 2001}), "description")
    response = post(api, {**spec_body, "description": "d" * 2000})
    assert response.status_code == 201
    assert response.json()["data"]["description"] == "d" * 2000


# --- tags ---------------------------------------------------------------------------------------

def test_tags_are_trimmed_and_deduplicated_in_order(api, spec_body):
    response = post(api, {**spec_body, "tags": [" prod ", "db", "prod", "db ", "x"]})

    assert response.status_code == 201, response.json()
    assert response.json()["data"]["tags"] == ["prod", "db", "x"]
    assert DataSource.objects.get().tags == ["prod", "db", "x"]


def test_fifty_tags_fit_and_fifty_one_do_not(api, spec_body):
    assert_rejected(post(api, {**spec_body, "tags": [f"t{i}" for i in range(51)]}), "tags")
    assert post(api, {**spec_body, "tags": [f"t{i}" for i in range(50)]}).status_code == 201


@pytest.mark.parametrize("tag", ["", "   ", "t" * 65])
def test_bad_tag_is_400(api, spec_body, tag):
    assert_rejected(post(api, {**spec_body, "tags": ["ok", tag]}), "tags")


def test_a_tag_of_64_characters_fits(api, spec_body):
    response = post(api, {**spec_body, "tags": [" " + "t" * 64 + " "]})
    assert response.status_code == 201
    assert response.json()["data"]["tags"] == ["t" * 64]


# --- metadata -----------------------------------------------------------------------------------

def metadata_of_size(size):
    """A JSON object whose json.dumps form is exactly ``size`` bytes."""
    overhead = len(json.dumps({"k": ""}))
    value = {"k": "x" * (size - overhead)}
    assert len(json.dumps(value)) == size
    return value


def test_metadata_up_to_16_kib(api, spec_body):
    assert_rejected(post(api, {**spec_body, "metadata": metadata_of_size(16 * 1024 + 1)}), "metadata")
    big = metadata_of_size(16 * 1024)
    response = post(api, {**spec_body, "metadata": big})
    assert response.status_code == 201
    assert DataSource.objects.get().metadata == big


@pytest.mark.parametrize("metadata", [
    {"note": "nul\x00inside"}, {"key\x00": "v"}, {"deep": [{"x": "\ud800"}]}, {"\udfff": 1},
])
def test_metadata_text_a_database_cannot_store_is_400(api, spec_body, metadata):
    body = json.dumps({**spec_body, "metadata": metadata})
    assert_rejected(api.post(URL, body, content_type="application/json"), "metadata")


def test_nested_metadata_is_kept(api, spec_body):
    metadata = {"owner": {"team": "bi", "oncall": ["a", "b"]}, "tier": 1, "pii": False}
    response = post(api, {**spec_body, "metadata": metadata})
    assert response.json()["data"]["metadata"] == metadata


# --- credentials keys ---------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["passwd", "PASSWORD", "service_account_json", "aws_secret_access_key"])
def test_unknown_credential_key_for_the_type_is_400(api, spec_body, key):
    spec_body["credentials"][key] = "typo-secret-123"
    response = post(api, spec_body)

    assert_rejected(response, "credentials")
    assert key in response.json()["error"]["details"]["credentials"][0]
    assert "typo-secret-123" not in response.content.decode()


@pytest.mark.parametrize("type_name,key", [
    ("bigquery", "service_account_json"), ("s3", "aws_access_key_id"),
    ("s3", "aws_secret_access_key"), ("dynamodb", "aws_secret_access_key"), ("dynamodb", "region"),
    ("http_api", "api_key_header"), ("snowflake", "warehouse"), ("postgresql", "ssh_password"),
])
def test_credential_keys_a_type_declares_are_accepted(api, stored_file, type_name, key):
    body = minimal_body(type_name, stored_file.name)
    body["credentials"] = {key: "s3cr3t-value"}
    response = post(api, body)

    assert response.status_code == 201, response.json()
    assert DataSource.objects.get().credentials == {key: "s3cr3t-value"}
    assert "s3cr3t-value" not in response.content.decode()



def test_unreadable_host_key_pin_is_a_400(api, workspace):
    body = {"name": "pinned", "type": "postgresql", "workspace_id": workspace.pk, "host": "db", "port": 5432,
            "database_name": "d", "use_ssh_tunnel": True, "ssh_host": "bastion", "ssh_username": "u",
            "credentials": {"ssh_password": "pw", "ssh_host_key": "not a key"}}
    response = api.post("/api/v1/data-sources", body, format="json")
    assert response.status_code == 400
    assert "ssh_host_key" in response.json()["error"]["details"]["credentials"][0]
