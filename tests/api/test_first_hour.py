"""Issue 22's API items: unknown keys, list errors, the envelope everywhere, expired tokens, the favicon."""
from datetime import timedelta

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from datasources.api.serializers import DataSourceReadSerializer
from datasources.models import DataSource, Webhook
from datasources.services.inputs import READ_ONLY_KEYS, DataSourceInputSerializer

pytestmark = pytest.mark.django_db
URL = "/api/v1/data-sources"


# --- 4. unknown top-level keys -----------------------------------------------------------------

@pytest.mark.parametrize("typo", [{"databse": "oops"}, {"sslmode": "require"}])
def test_an_unknown_top_level_key_is_a_400_listing_the_accepted_ones(api, spec_body, typo):
    response = api.post(URL, {**spec_body, **typo}, format="json")

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    (key,) = typo
    assert list(error["details"]) == [key]
    assert error["message"].startswith(f"{key}: Unknown field.")
    for accepted in DataSourceInputSerializer().fields:
        assert accepted in error["message"]
    assert not DataSource.objects.exists()


def test_an_unknown_key_in_a_patch_is_a_400(api, spec_body):
    pk = api.post(URL, spec_body, format="json").json()["data"]["id"]
    response = api.patch(f"{URL}/{pk}", {"descripton": "typo"}, format="json")

    assert response.status_code == 400
    assert "descripton" in response.json()["error"]["details"]


def test_a_read_sent_back_is_accepted(api, spec_body):
    """The read's read-only keys are ignored, so GET, edit, PUT works."""
    pk = api.post(URL, spec_body, format="json").json()["data"]["id"]
    body = api.get(f"{URL}/{pk}").json()["data"]
    body.update(description="edited", credentials=spec_body["credentials"])

    response = api.put(f"{URL}/{pk}", body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["data"]["description"] == "edited"


def test_read_only_keys_are_exactly_the_read_shapes_keys_beyond_the_input():
    read_keys = set(DataSourceReadSerializer().fields)
    assert READ_ONLY_KEYS == read_keys - set(DataSourceInputSerializer().fields)


# --- 5. errors inside lists ----------------------------------------------------------------------

def test_a_bad_event_names_the_index_and_lists_the_valid_events(api):
    response = api.post("/api/v1/webhooks", {"url": "http://10.255.255.1:8999/h", "events": [
        "data_source.health_changed", "schema_changed"]}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert list(error["details"]) == ["events[1]"]
    assert error["message"].startswith('events[1]: "schema_changed" is not a valid choice')
    for event in ("data_source.health_changed", "data_source.schema_changed", "data_source.discovery_failed"):
        assert event in error["message"]
    assert not Webhook.objects.exists()


def test_no_events_says_at_least_one(api):
    response = api.post("/api/v1/webhooks", {"url": "http://10.255.255.1:8999/h", "events": []}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "events: Choose at least one event."


def test_a_bad_tag_names_its_index(api, spec_body):
    response = api.post(URL, {**spec_body, "tags": ["ok", ""]}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == ["tags[1]"]


# --- 6. the envelope for every /api/ answer --------------------------------------------------------

@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v2/data-sources", "/api/", "/api/v1/data-sources/1/nope"])
def test_unknown_api_routes_answer_the_envelope_in_every_mode(alice, settings, debug, path):
    settings.DEBUG = debug
    response = Client().get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"success": False, "error": {"code": "NOT_FOUND", "message": "Not found."}}


@pytest.mark.parametrize("method", ["post", "delete", "patch", "put"])
def test_a_write_to_an_unknown_api_route_is_the_envelopes_404_not_a_csrf_page(alice, method):
    response = getattr(Client(enforce_csrf_checks=True), method)("/api/v1/data-sources/-1")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_an_error_outside_a_view_answers_the_envelope_under_debug(alice, settings, monkeypatch):
    """An exception no view catches (here: in URL resolution's view) is the envelope's 500 with DEBUG on."""
    import rivergen.views

    def broken(request, rest=""):
        raise RuntimeError("boom")

    settings.DEBUG = True
    monkeypatch.setattr(rivergen.views, "json_404", broken)
    response = Client(raise_request_exception=False).get("/api/v1/nothing-here")

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "INTERNAL_ERROR"


# --- 8. an expired token says so -----------------------------------------------------------------------

def test_an_expired_access_token_says_expired(alice, spec_body):
    token = AccessToken.for_user(alice)
    token.set_exp(lifetime=-timedelta(seconds=5))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = client.get(URL)
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]
    assert "/api/v1/auth/token/refresh" in response.json()["error"]["message"]


def test_a_garbage_token_does_not_say_expired(alice):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")

    response = client.get(URL)
    assert response.status_code == 401
    assert "expired" not in response.json()["error"]["message"]


def test_an_expired_token_signed_with_another_key_is_not_called_expired(alice):
    import jwt

    payload = dict(AccessToken.for_user(alice).payload, exp=1)
    forged = jwt.encode(payload, "not-the-server-key-but-long-enough-for-hs256", algorithm="HS256")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")

    assert "expired" not in client.get(URL).json()["error"]["message"]


def test_an_expired_refresh_token_says_sign_in_again(alice):
    token = RefreshToken.for_user(alice)
    token.set_exp(lifetime=-timedelta(seconds=5))

    response = APIClient().post("/api/v1/auth/token/refresh", {"refresh_token": str(token)}, format="json")
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]
    assert "/api/v1/auth/token" in response.json()["error"]["message"]


# --- 19. the favicon ---------------------------------------------------------------------------------------

def test_the_favicon_is_served(db):
    response = Client().get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"


# --- 7. a source's discoveries ----------------------------------------------------------------------------

def test_discoveries_are_listed_newest_first_and_the_latest_is_on_the_read(api, spec_body):
    from datasources.models import Discovery

    pk = api.post(URL, {**spec_body, "schema_auto_refresh": False}, format="json").json()["data"]["id"]
    assert api.get(f"{URL}/{pk}").json()["data"]["latest_discovery"] is None
    assert api.get(f"{URL}/{pk}/discoveries").json()["data"] == []
    first = api.post(f"{URL}/{pk}/discover-schema").json()["data"]["discovery_id"]
    Discovery.objects.filter(pk=first).update(status="failed", error_code="TIMEOUT")
    second = api.post(f"{URL}/{pk}/discover-schema").json()["data"]["discovery_id"]

    listed = api.get(f"{URL}/{pk}/discoveries", {"page_size": 1})
    assert listed.status_code == 200
    assert [d["discovery_id"] for d in listed.json()["data"]] == [second]
    assert listed.json()["pagination"]["total"] == 2
    assert [d["discovery_id"] for d in api.get(f"{URL}/{pk}/discoveries", {"page": 2, "page_size": 1})
            .json()["data"]] == [first]
    latest = api.get(f"{URL}/{pk}").json()["data"]["latest_discovery"]
    assert latest["discovery_id"] == second and latest["status"] == "queued"


def test_the_create_answer_keeps_exactly_the_spec_keys(api, spec_body):
    from datasources.api.serializers import DataSourceSerializer

    data = api.post(URL, spec_body, format="json").json()["data"]
    assert list(data) == DataSourceSerializer.Meta.fields
    assert "latest_discovery" not in data


# --- 9. one rule for destinations: refused when saved, the message names the setting -----------------------

def test_a_loopback_host_is_refused_at_create_under_private(api, spec_body, settings):
    settings.DATASOURCES_NETWORK_POLICY = "private"
    response = api.post(URL, {**spec_body, "host": "127.0.0.1"}, format="json")

    assert response.status_code == 400, response.json()
    message = response.json()["error"]["details"]["host"][0]
    assert "DATASOURCES_NETWORK_POLICY=private" in message and "DATASOURCES_NETWORK_POLICY=open" in message
    assert "loopback" in message
    assert not DataSource.objects.exists()


def test_a_private_host_is_refused_under_public_and_the_message_says_what_to_set(api, spec_body, settings):
    settings.DATASOURCES_NETWORK_POLICY = "public"
    response = api.post(URL, {**spec_body, "host": "10.1.2.3"}, format="json")

    assert response.status_code == 400
    assert "DATASOURCES_NETWORK_POLICY=private" in response.json()["error"]["details"]["host"][0]


def test_a_metadata_host_is_refused_at_create_under_every_policy(api, spec_body, settings):
    settings.DATASOURCES_NETWORK_POLICY = "open"
    response = api.post(URL, {**spec_body, "host": "169.254.169.254"}, format="json")

    assert response.status_code == 400
    assert "no DATASOURCES_NETWORK_POLICY allows it" in response.json()["error"]["details"]["host"][0]


def test_a_refused_host_on_patch_is_a_400_too(api, spec_body, settings):
    pk = api.post(URL, spec_body, format="json").json()["data"]["id"]
    settings.DATASOURCES_NETWORK_POLICY = "private"
    response = api.patch(f"{URL}/{pk}", {"host": "localhost", "credentials": spec_body["credentials"]}, format="json")

    assert response.status_code == 400
    assert "DATASOURCES_NETWORK_POLICY" in response.json()["error"]["details"]["host"][0]


def test_a_name_that_does_not_resolve_here_is_left_to_the_test(api, spec_body, settings):
    settings.DATASOURCES_NETWORK_POLICY = "private"
    response = api.post(URL, {**spec_body, "host": "db.nowhere.invalid"}, format="json")
    assert response.status_code == 201, response.json()


def test_behind_a_tunnel_the_ssh_server_is_the_destination(api, spec_body, settings):
    settings.DATASOURCES_NETWORK_POLICY = "private"
    tunnel = {"use_ssh_tunnel": True, "ssh_username": "u",
              "credentials": {**spec_body["credentials"], "ssh_password": "pw"}}
    behind = api.post(URL, {**spec_body, **tunnel, "host": "127.0.0.1", "ssh_host": "db.nowhere.invalid"},
                      format="json")
    assert behind.status_code == 201, behind.json()
    refused = api.post(URL, {**spec_body, **tunnel, "name": "Other", "ssh_host": "127.0.0.1"}, format="json")
    assert refused.status_code == 400
    assert "DATASOURCES_NETWORK_POLICY" in refused.json()["error"]["details"]["ssh_host"][0]


def test_a_refused_webhook_names_the_setting(api, settings):
    settings.DATASOURCES_NETWORK_POLICY = "private"
    response = api.post("/api/v1/webhooks", {"url": "http://127.0.0.1:8999/h",
                                             "events": ["data_source.health_changed"]}, format="json")
    assert response.status_code == 400
    assert "DATASOURCES_NETWORK_POLICY=open" in response.json()["error"]["details"]["url"][0]


# --- 2, 3. /types says what a create needs ------------------------------------------------------------------

def test_types_say_credentials_are_always_required_and_port_has_no_default(api):
    catalogue = {entry["type"]: entry for entry in api.get(f"{URL}/types").json()["data"]}

    assert catalogue["csv"]["always_required"] == ["name", "type", "credentials"]
    port = catalogue["postgresql"]["configuration_schema"]["properties"]["port"]
    assert "default" not in port and port["examples"] == [5432]
    assert "Required unless connection_string" in port["description"]


def test_a_postgresql_body_without_port_is_a_400_as_types_says(api, spec_body):
    response = api.post(URL, {**spec_body, "port": None}, format="json")
    assert response.status_code == 400
    assert "port" in response.json()["error"]["details"]
