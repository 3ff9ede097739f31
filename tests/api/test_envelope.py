"""Every error of the create endpoint leaves in the envelope with the right status and code."""
import json

import pytest

from datasources.models import DataSource
from tests.conftest import client_for

URL = "/api/v1/data-sources"


def assert_envelope(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body


# --- 400 -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", ['{"name": "x",', "{'name': 'x'}", "nope", '{"a": NaN}', "\xff\xfe"])
def test_malformed_json_is_400(api, raw):
    assert_envelope(api.post(URL, raw, content_type="application/json"), 400, "BAD_REQUEST")


@pytest.mark.parametrize("raw", ["[]", "[1, 2]", '"text"', "42", "null", "true"])
def test_body_that_is_not_an_object_is_400(api, raw):
    body = assert_envelope(api.post(URL, raw, content_type="application/json"), 400, "BAD_REQUEST")
    assert "object" in body["error"]["message"]


def test_empty_body_is_400_naming_the_required_fields(api):
    body = assert_envelope(api.post(URL, "", content_type="application/json"), 400, "BAD_REQUEST")
    assert {"name", "type", "credentials"} <= set(body["error"]["details"])


def test_deeply_nested_json_is_400_not_500(api, spec_body):
    raw = json.dumps({**spec_body, "metadata": "HOLE"}).replace('"HOLE"', "[" * 100_000 + "]" * 100_000)
    assert_envelope(api.post(URL, raw, content_type="application/json"), 400, "BAD_REQUEST")
    assert not DataSource.objects.exists()


def test_validation_error_names_the_field_in_message_and_details(api, spec_body):
    body = assert_envelope(api.post(URL, {**spec_body, "port": 0}, format="json"), 400, "BAD_REQUEST")
    assert body["error"]["message"].startswith("port")
    assert isinstance(body["error"]["details"]["port"], list)


# --- 401 / 403 -----------------------------------------------------------------------------------

def test_403_for_no_membership_comes_before_validation(nobody):
    assert_envelope(client_for(nobody).post(URL, {}, format="json"), 403, "FORBIDDEN")


# --- 404 / 405 -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v1/data-sources/abc", "/api/v2/data-sources"])
def test_unknown_route_under_api_is_404_envelope(api, path):
    assert_envelope(api.get(path), 404, "NOT_FOUND")


def test_unknown_route_without_token_is_a_404_envelope():
    assert_envelope(client_for(None).get("/api/v1/nothing-here"), 404, "NOT_FOUND")


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_wrong_method_on_the_collection_is_405(api, spec_body, method):
    response = getattr(api, method)(URL, spec_body, format="json")
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert not DataSource.objects.exists()


@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/auth/token/refresh"])
def test_get_on_a_token_endpoint_is_405(path):
    assert_envelope(client_for(None).get(path), 405, "METHOD_NOT_ALLOWED")


# --- 415 -----------------------------------------------------------------------------------------

def test_form_encoded_body_is_415(api):
    response = api.post(URL, "name=x&type=postgresql", content_type="application/x-www-form-urlencoded")
    assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_text_plain_body_is_415(api, spec_body):
    response = api.post(URL, json.dumps(spec_body), content_type="text/plain")
    assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert not DataSource.objects.exists()


def test_multipart_body_is_415(api):
    assert_envelope(api.post(URL, {"name": "x"}, format="multipart"), 415, "UNSUPPORTED_MEDIA_TYPE")


# --- 500 -----------------------------------------------------------------------------------------

def test_unexpected_error_is_a_generic_500_without_traceback_or_secret(api, spec_body, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("canary-secret postgresql://dbuser:securepassword@db")

    monkeypatch.setattr("datasources.api.sources.data_source_create", explode)
    response = api.post(URL, spec_body, format="json")

    body = assert_envelope(response, 500, "INTERNAL_ERROR")
    assert body == {"success": False, "error": {"code": "INTERNAL_ERROR", "message": "An internal error occurred."}}
    raw = response.content.decode()
    for leak in ("canary", "securepassword", "Traceback", "RuntimeError", "File \""):
        assert leak not in raw
