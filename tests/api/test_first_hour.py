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
    response = api.post("/api/v1/webhooks", {"url": "http://127.0.0.1:8999/h", "events": [
        "data_source.health_changed", "schema_changed"]}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert list(error["details"]) == ["events[1]"]
    assert error["message"].startswith('events[1]: "schema_changed" is not a valid choice')
    for event in ("data_source.health_changed", "data_source.schema_changed", "data_source.discovery_failed"):
        assert event in error["message"]
    assert not Webhook.objects.exists()


def test_no_events_says_at_least_one(api):
    response = api.post("/api/v1/webhooks", {"url": "http://127.0.0.1:8999/h", "events": []}, format="json")

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
