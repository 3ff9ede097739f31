"""GET /api/v1/data-sources/types: the catalogue, built from the connectors."""
import jsonschema
import pytest

from datasources.connectors import CONNECTORS
from tests.conftest import SPEC_BODY

pytestmark = pytest.mark.django_db
SPEC_TYPES = {
    "postgresql", "mysql", "mariadb", "sqlserver", "oracle", "snowflake", "bigquery", "redshift",
    "mongodb", "elasticsearch", "redis", "cassandra", "dynamodb",
    "csv", "excel", "json", "parquet", "orc", "delta_lake", "iceberg", "hudi", "s3",
    "http_api", "other",
}
FILE_TYPES = {"csv", "excel", "json", "parquet", "orc", "delta_lake", "iceberg", "hudi", "s3"}


@pytest.fixture
def catalogue(api):
    response = api.get("/api/v1/data-sources/types")
    assert response.status_code == 200
    return {entry["type"]: entry for entry in response.json()["data"]}


def validator(entry):
    schema = entry["configuration_schema"]
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_every_spec_type_is_listed_once(catalogue):
    assert set(catalogue) == SPEC_TYPES
    assert list(catalogue) == list(CONNECTORS)


def test_an_entry_describes_the_type(catalogue):
    postgres = catalogue["postgresql"]
    assert postgres["label"] == "PostgreSQL" and postgres["family"] == "sql"
    assert postgres["default_port"] == 5432
    assert postgres["required_fields"] == [["host", "port", "database_name"], ["connection_string"]]
    keys = {key["name"]: key["secret"] for key in postgres["credential_keys"]}
    assert keys["password"] is True and keys["username"] is False and keys["ssh_private_key"] is True


def test_type_declared_credential_keys_are_listed_with_their_secrecy(catalogue):
    bigquery = {k["name"]: k["secret"] for k in catalogue["bigquery"]["credential_keys"]}
    assert bigquery["service_account_json"] is True
    s3 = {k["name"]: k["secret"] for k in catalogue["s3"]["credential_keys"]}
    assert s3["aws_secret_access_key"] is True and s3["aws_access_key_id"] is False


def test_file_types_require_a_file_path(catalogue):
    for name in FILE_TYPES:
        assert catalogue[name]["required_fields"] == [["file_path"]], name
        assert catalogue[name]["family"] == "files"


def test_every_configuration_schema_is_valid_json_schema(catalogue):
    for entry in catalogue.values():
        validator(entry)


def test_spec_example_body_satisfies_the_postgresql_schema(catalogue):
    assert not list(validator(catalogue["postgresql"]).iter_errors(SPEC_BODY))


def test_schema_bounds_and_types_match_the_api(catalogue, api, workspace):
    """The schema and the API refuse the same things: they are built from one serializer."""
    schema = validator(catalogue["postgresql"])
    for change in ({"port": "5432"}, {"port": 70000}, {"connection_timeout": 0}, {"use_ssh_tunnel": "yes"}):
        body = {**SPEC_BODY, "workspace_id": workspace.pk, **change}
        assert list(schema.iter_errors(body)), change
        assert api.post("/api/v1/data-sources", body, format="json").status_code == 400, change


def test_schema_requires_what_the_type_requires(catalogue, api, workspace):
    schema = validator(catalogue["postgresql"])
    body = {"workspace_id": workspace.pk, "name": "x", "type": "postgresql", "host": "h", "credentials": {}}
    assert list(schema.iter_errors(body))
    assert api.post("/api/v1/data-sources", body, format="json").status_code == 400
    with_string = {**body, "connection_string": "postgresql://h:5432/db"}
    assert not list(schema.iter_errors(with_string))


def test_unknown_credential_key_is_refused_by_schema_and_api(catalogue, api, workspace):
    body = {**SPEC_BODY, "workspace_id": workspace.pk, "credentials": {"pasword": "typo"}}
    assert list(validator(catalogue["postgresql"]).iter_errors(body))
    assert api.post("/api/v1/data-sources", body, format="json").status_code == 400


def test_secret_fields_are_write_only_in_the_schema(catalogue):
    properties = catalogue["postgresql"]["configuration_schema"]["properties"]
    assert properties["connection_string"]["writeOnly"] is True
    assert properties["credentials"]["properties"]["password"]["writeOnly"] is True
    assert "writeOnly" not in properties["credentials"]["properties"]["username"]


def test_trailing_slash_works_and_post_is_405(api):
    assert api.get("/api/v1/data-sources/types/").status_code == 200
    response = api.post("/api/v1/data-sources/types", {}, format="json")
    assert response.status_code == 405 and response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
