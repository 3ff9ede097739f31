"""The OpenAPI document says what the API really sends and accepts, for every operation."""
from io import StringIO

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

from datasources.connectors import CONNECTORS

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def resolve(schema, node):
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def success_data(schema, path, method, code="200"):
    body = resolve(schema, schema["paths"][path][method]["responses"][code]["content"]["application/json"]["schema"])
    assert body["required"][:3] == ["success", "data", "message"]
    return body["properties"]["data"]


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


@pytest.mark.django_db
def test_openapi_schema_is_valid_and_generates_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(out), "--validate", "--fail-on-warn", stderr=StringIO())
    text = out.read_text()
    assert "/api/v1/data-sources:" in text and "/api/v1/auth/token:" in text


def test_openapi_is_served(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200 and b"openapi" in response.content


def test_every_success_is_one_envelope_and_every_operation_documents_its_errors(schema):
    for path, method, operation in operations(schema):
        for code, response in operation["responses"].items():
            if code.startswith("2") and set(response["content"]) == {"application/x-ndjson"}:
                continue  # the streamed export: a line stream, not an envelope (tested below)
            body = resolve(schema, response["content"]["application/json"]["schema"])
            if code.startswith("2"):
                assert body["properties"]["success"] == {"type": "boolean", "const": True}, (path, method)
                data = resolve(schema, body["properties"]["data"])
                assert "success" not in data.get("properties", {}), f"{method} {path}: envelope inside envelope"
            else:
                assert body["properties"]["success"] == {"type": "boolean", "const": False}, (path, method)
        assert {"400", "401"} <= set(operation["responses"]), (path, method)


def test_the_list_is_an_array_of_sources_with_pagination(schema):
    data = success_data(schema, "/api/v1/data-sources", "get")
    assert data["type"] == "array" and data["items"] == {"$ref": "#/components/schemas/DataSourceDetail"}


@pytest.mark.parametrize("path,method,component", [
    ("/api/v1/data-sources/types", "get", "DataSourceType"),
    ("/api/v1/storage/files", "get", "StoredFile"),
])
def test_lists_are_arrays_of_named_components(schema, path, method, component):
    assert success_data(schema, path, method) == {
        "type": "array", "items": {"$ref": f"#/components/schemas/{component}"},
    }


@pytest.mark.parametrize("path,method,code,component", [
    ("/api/v1/data-sources/{id}/discover-schema", "post", "202", "DiscoveryQueued"),
    ("/api/v1/data-sources/{id}/discoveries/{discovery_id}", "get", "200", "Discovery"),
    ("/api/v1/data-sources/{id}/schema", "get", "200", "SchemaPage"),
    ("/api/v1/data-sources/{id}/test-connection", "post", "200", "ConnectionTest"),
    ("/api/v1/data-sources/test-connection", "post", "200", "ConnectionTest"),
    ("/api/v1/storage/files", "post", "201", "StoredFile"),
])
def test_bodies_are_named_components(schema, path, method, code, component):
    assert success_data(schema, path, method, code) == {"$ref": f"#/components/schemas/{component}"}


@pytest.mark.parametrize("path", ["/api/v1/data-sources/{id}", "/api/v1/storage/files/{id}"])
def test_delete_sends_data_null(schema, path):
    assert success_data(schema, path, "delete") == {"type": "null"}


@pytest.mark.parametrize("path,method", [
    ("/api/v1/data-sources", "post"), ("/api/v1/data-sources/{id}", "put"),
    ("/api/v1/data-sources/test-connection", "post"),
])
def test_create_and_update_bodies_are_one_schema_per_type(schema, path, method):
    body = schema["paths"][path][method]["requestBody"]
    assert body["required"] is True
    union = resolve(schema, body["content"]["application/json"]["schema"])
    assert union["discriminator"]["propertyName"] == "type"
    assert set(union["discriminator"]["mapping"]) == set(CONNECTORS)
    for type_name, ref in union["discriminator"]["mapping"].items():
        one = resolve(schema, {"$ref": ref})
        connector = CONNECTORS[type_name]
        assert one["properties"]["type"] == {"type": "string", "const": type_name}
        credentials = one["properties"]["credentials"]
        assert set(credentials["properties"]) == set(connector.accepted_credential_keys())
        assert credentials["additionalProperties"] is False
        if len(connector.required) == 1:
            assert set(connector.required[0]) <= set(one["required"])
        elif len(connector.required) == 2:
            assert one["else"]["required"] == list(connector.required[0])
            assert one["if"]["required"] == list(connector.required[1])


def test_bounds_and_header_credentials_are_in_the_schema(schema):
    one = schema["components"]["schemas"]["HttpApiSourceRequest"]
    assert one["properties"]["port"]["minimum"] == 1 and one["properties"]["port"]["maximum"] == 65535
    assert one["properties"]["credentials"]["properties"]["api_key"]["pattern"] == "^[!-~]*$"
    assert one["properties"]["connection_string"]["pattern"].startswith("^(?:http|https)://")
    assert "name" in one["required"]
    assert "name" not in schema["components"]["schemas"]["HttpApiTestRequest"]["required"]


def test_query_integers_are_bounded_to_64_bits(schema):
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/data-sources"]["get"]["parameters"]}
    assert parameters["page"] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    assert parameters["workspace_id"]["maximum"] == 2**63 - 1


@pytest.mark.parametrize("url,asset", [
    ("/api/docs/", "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"),
    ("/api/redoc/", "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"),
])
def test_swagger_ui_and_redoc_use_local_assets(client, url, asset):
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert f"/static/{asset}" in html
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
    assert finders.find(asset), asset


def test_the_export_is_documented_as_a_line_stream_of_tables(schema):
    response = schema["paths"]["/api/v1/data-sources/{id}/schema/export"]["get"]["responses"]["200"]
    media = response["content"]["application/x-ndjson"]
    assert media["schema"]["type"] == "string"
    assert media["x-item-schema"] == {"$ref": "#/components/schemas/SchemaExportLine"}
    assert "columns" in schema["components"]["schemas"]["SchemaExportLine"]["properties"]


def test_the_audit_log_is_documented(schema):
    assert success_data(schema, "/api/v1/audit-events", "get") == {
        "type": "array", "items": {"$ref": "#/components/schemas/AuditEvent"}}
    listing = schema["paths"]["/api/v1/audit-events"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {
        "action", "actor_type", "actor_id", "target_type", "target_id", "since", "until", "page", "page_size"}
    assert {"401", "403"} <= set(listing["responses"])
    media = schema["paths"]["/api/v1/audit-events/export"]["get"]["responses"]["200"]["content"]["application/x-ndjson"]
    assert media["x-item-schema"] == {"$ref": "#/components/schemas/AuditEvent"}
    event = schema["components"]["schemas"]["AuditEvent"]["properties"]
    assert set(event) == {"id", "occurred_at", "organization_id", "action", "actor", "target", "changes", "request"}


def test_every_response_documents_its_request_id(schema):
    for path, method, operation in operations(schema):
        for code, response in operation["responses"].items():
            assert "X-Request-ID" in response.get("headers", {}), (path, method, code)


def test_export_and_apply_are_documented_with_the_bundle_schema(schema):
    export = schema["paths"]["/api/v1/data-sources/export"]["get"]
    bundle = resolve(schema, success_data(schema, "/api/v1/data-sources/export", "get"))
    entry = resolve(schema, bundle["properties"]["data_sources"]["items"])
    assert {"name", "type", "workspace", "port", "tags", "credentials", "credentials_set"} <= set(entry["properties"])
    assert "application/yaml" in export["responses"]["200"]["content"]
    apply = schema["paths"]["/api/v1/data-sources/apply"]["post"]
    assert set(apply["requestBody"]["content"]) == {"application/json"} and "application/yaml" in apply["description"]
    plan = resolve(schema, success_data(schema, "/api/v1/data-sources/apply", "post"))
    assert set(plan["properties"]) == {"dry_run", "summary", "changes"}
    assert {p["name"] for p in apply["parameters"]} == {"dry_run", "prune", "workspace_id"}


def test_the_test_result_shows_its_tls_summary_and_steps(schema):
    """Issue 18: the test result's shape (saved and unsaved share one component)."""
    components = schema["components"]["schemas"]
    result = components["ConnectionTest"]
    assert {"tls", "steps"} <= set(result["required"])
    assert result["properties"]["tls"]["oneOf"] == [{"$ref": "#/components/schemas/TlsOutcome"}, {"type": "null"}]
    tls = components["TlsOutcome"]
    assert set(tls["required"]) == {"encrypted", "verified", "protocol", "server_certificate"}
    assert tls["properties"]["encrypted"] == tls["properties"]["verified"] == {"type": "boolean"}
    assert tls["properties"]["server_certificate"]["oneOf"] == [
        {"$ref": "#/components/schemas/ServerCertificate"}, {"type": "null"}]
    assert set(components["ServerCertificate"]["required"]) == {"subject", "issuer", "not_after", "days_left", "sha256"}
    assert result["properties"]["steps"]["items"] == {"$ref": "#/components/schemas/TestStep"}
    step = components["TestStep"]
    assert set(step["required"]) == {"name", "status", "duration_ms", "error_code", "message"}
    assert resolve(schema, step["properties"]["name"])["enum"] == [
        "resolve", "ssh_tunnel", "connect", "tls", "authenticate", "read_catalogue"]
    assert resolve(schema, step["properties"]["status"])["enum"] == ["passed", "failed", "skipped"]


def test_the_read_and_the_health_show_tls_and_the_server_certificate(schema):
    watched = {"oneOf": [{"$ref": "#/components/schemas/WatchedCertificate"}, {"type": "null"}]}
    for component in ("DataSourceDetail", "DataSourceRead"):
        properties = schema["components"]["schemas"][component]["properties"]
        assert properties["tls"]["properties"]["mode"]["enum"] == ["disable", "prefer", "require", "verify-ca", "verify-full"]
        assert {key: properties["server_certificate"][key] for key in watched} == watched
    assert "tls" not in schema["components"]["schemas"]["DataSource"]["properties"]  # the 201 keeps the spec's keys
    health = resolve(schema, success_data(schema, "/api/v1/data-sources/{id}/health", "get"))
    assert {key: health["properties"]["server_certificate"][key] for key in watched} == watched
    assert "expiring" in schema["components"]["schemas"]["WatchedCertificate"]["required"]


@pytest.mark.parametrize("suffix", ["SourceRequest", "TestRequest"])
def test_each_types_body_takes_its_own_tls_modes_and_the_client_key(schema, suffix):
    for type_name, connector in CONNECTORS.items():
        body = schema["components"]["schemas"]["".join(p.capitalize() for p in type_name.split("_")) + suffix]
        tls = body["properties"]["tls"]
        if not connector.tls_modes:
            assert tls["type"] == "null", type_name
            continue
        assert tls["properties"]["mode"]["enum"] == list(connector.tls_modes), type_name
        assert set(tls["properties"]) == {"mode", "ca_certificate", "client_certificate"}
        assert connector.tls_default in tls["description"]
        assert body["properties"]["credentials"]["properties"]["tls_client_key"]["writeOnly"] is True, type_name


def test_a_patch_body_names_each_type_once(schema):
    for name, field in schema["components"]["schemas"]["PatchedDataSourceInputRequest"]["properties"].items():
        kinds = field.get("type")
        assert not isinstance(kinds, list) or len(kinds) == len(set(kinds)), name
