"""API keys for service accounts: created once by an organization admin, then used as a Bearer token."""
import logging
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api_key_services import api_key_create
from accounts.api_keys import KEY_PATTERN, ApiKey, parse_key
from accounts.models import Workspace
from datasources.models import DataSource
from datasources.services.sources import data_source_create
from tests.security.test_secrets_canary import every_text_column
from tests.support import client_for

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/api-keys"
SOURCES = "/api/v1/data-sources"


def key_client(key, address="203.0.113.20") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def make_key(actor, role, **more) -> tuple[ApiKey, str]:
    return api_key_create(actor=actor, data={"name": f"{role} key", "role": role, **more})


def other_body(workspace, name="Made by a key") -> dict:
    return {"workspace_id": workspace.pk, "name": name, "type": "other", "credentials": {}, "schema_auto_refresh": False}


@pytest.fixture
def acme_source(alice, workspace):
    return data_source_create(actor=alice, data=other_body(workspace, "Acme source"))


# --- creating, reading, the format -------------------------------------------------------------

def test_an_admin_creates_a_key_shown_once_in_the_documented_format(api, alice, workspace):
    response = api.post(KEYS, {"name": "CI", "role": "editor", "workspace_ids": [workspace.pk]}, format="json")

    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert {"id", "name", "prefix", "key", "role", "workspace_ids", "expires_at", "created_at",
            "created_by_user_id", "last_used_at"} <= set(data)
    assert KEY_PATTERN.match(data["key"]) and parse_key(data["key"]) == data["prefix"]
    assert data["created_by_user_id"] == alice.pk and data["workspace_ids"] == [workspace.pk]
    expires = timezone.datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=89) < expires - timezone.now() <= timedelta(days=90)
    for later in (api.get(KEYS), api.get(f"{KEYS}/{data['id']}")):
        assert later.status_code == 200 and data["key"] not in later.content.decode()
        assert "key" not in (later.json()["data"][0] if isinstance(later.json()["data"], list) else later.json()["data"])


@pytest.mark.parametrize("body, field", [
    ({"name": "x", "role": "owner"}, "role"),
    ({"name": "x", "role": "viewer", "expires_in_days": 0}, "expires_in_days"),
    ({"name": "x", "role": "viewer", "expires_in_days": 366}, "expires_in_days"),
    ({"name": "x", "role": "viewer", "expires_in_days": "30"}, "expires_in_days"),
    ({"name": "x", "role": "viewer", "workspace_ids": []}, "workspace_ids"),
    ({"name": "", "role": "viewer"}, "name"),
])
def test_bad_input_is_a_400_and_writes_nothing(api, body, field):
    response = api.post(KEYS, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]
    assert not ApiKey.objects.exists() and not get_user_model().objects.filter(username__startswith="api-key:").exists()


def test_another_organizations_workspace_is_a_400(api, other_workspace):
    response = api.post(KEYS, {"name": "x", "role": "viewer", "workspace_ids": [other_workspace.pk]}, format="json")
    assert response.status_code == 400 and "workspace_ids" in response.json()["error"]["details"]


def test_a_key_cannot_manage_keys(alice):
    _, key = make_key(alice, "admin")
    client = key_client(key)
    assert client.get(KEYS).status_code == 403
    assert client.post(KEYS, {"name": "y", "role": "viewer"}, format="json").status_code == 403
    assert ApiKey.objects.count() == 1


# --- what a key may do -------------------------------------------------------------------------

def test_a_viewer_key_reads_and_cannot_write(alice, workspace, acme_source):
    _, key = make_key(alice, "viewer")
    client = key_client(key)
    listed = client.get(SOURCES)
    assert listed.status_code == 200 and [s["id"] for s in listed.json()["data"]] == [acme_source.pk]
    assert client.get(f"{SOURCES}/{acme_source.pk}").status_code == 200
    assert client.post(SOURCES, other_body(workspace), format="json").status_code == 403
    assert client.patch(f"{SOURCES}/{acme_source.pk}", {"description": "no"}, format="json").status_code == 403
    assert client.post(f"{SOURCES}/{acme_source.pk}/test-connection").status_code == 403
    assert DataSource.objects.count() == 1


def test_an_editor_key_creates_and_tests_as_its_own_identity(alice, workspace):
    api_key, key = make_key(alice, "editor")
    client = key_client(key)
    created = client.post(SOURCES, other_body(workspace), format="json")
    assert created.status_code == 201, created.content
    source_id = created.json()["data"]["id"]
    assert created.json()["data"]["created_by_user_id"] == api_key.identity_id != alice.pk
    tested = client.post(f"{SOURCES}/{source_id}/test-connection")
    assert tested.status_code == 200, tested.content
    patched = client.patch(f"{SOURCES}/{source_id}", {"description": "by the key"}, format="json")
    assert patched.status_code == 200 and patched.json()["data"]["updated_by_user_id"] == api_key.identity_id


def test_a_workspace_scoped_key_sees_and_creates_only_inside_its_workspaces(alice, org, workspace, acme_source):
    elsewhere = Workspace.objects.create(organization=org, name="Finance")
    outside = data_source_create(actor=alice, data=other_body(elsewhere, "Finance source"))
    unplaced = data_source_create(actor=alice, data={**other_body(workspace, "No workspace"), "workspace_id": None})
    _, key = make_key(alice, "admin", workspace_ids=[workspace.pk])
    client = key_client(key)

    assert [s["id"] for s in client.get(SOURCES).json()["data"]] == [acme_source.pk]
    for hidden in (outside, unplaced):
        assert client.get(f"{SOURCES}/{hidden.pk}").status_code == 404
        assert client.delete(f"{SOURCES}/{hidden.pk}").status_code == 404
    refused = client.post(SOURCES, other_body(elsewhere, "Sneaky"), format="json")
    assert refused.status_code == 400 and "workspace_id" in refused.json()["error"]["details"]
    assert client.post(SOURCES, {**other_body(workspace, "Nowhere"), "workspace_id": None}, format="json").status_code == 400
    moved = client.patch(f"{SOURCES}/{acme_source.pk}", {"workspace_id": elsewhere.pk}, format="json")
    assert moved.status_code == 400
    assert client.post(SOURCES, other_body(workspace, "Inside"), format="json").status_code == 201
    assert client.get("/api/v1/webhooks").status_code == 403  # organization-wide: not for a scoped key
    assert DataSource.objects.filter(name__in=["Sneaky", "Nowhere"]).count() == 0


# --- keys that no longer work ------------------------------------------------------------------

def test_a_revoked_key_gets_401_at_once(api, alice):
    api_key, key = make_key(alice, "viewer")
    assert key_client(key).get(SOURCES).status_code == 200
    assert api.delete(f"{KEYS}/{api_key.pk}").status_code == 200
    response = key_client(key).get(SOURCES)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert api.get(f"{KEYS}/{api_key.pk}").json()["data"]["revoked_at"] is not None


def test_rotation_gives_a_new_key_and_kills_the_old_one(api, alice):
    api_key, old = make_key(alice, "viewer")
    response = api.post(f"{KEYS}/{api_key.pk}/rotate")
    assert response.status_code == 200, response.content
    new = response.json()["data"]["key"]
    assert new != old and parse_key(new) == response.json()["data"]["prefix"]
    assert key_client(old).get(SOURCES).status_code == 401
    assert key_client(new).get(SOURCES).status_code == 200
    assert new not in api.get(f"{KEYS}/{api_key.pk}").content.decode()


def test_an_expired_key_gets_401(alice):
    api_key, key = make_key(alice, "viewer", expires_in_days=1)
    ApiKey.objects.filter(pk=api_key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert key_client(key).get(SOURCES).status_code == 401


@pytest.mark.parametrize("mangle", [
    lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"),  # checksum no longer holds
    lambda k: k[:-7] + ("x" if k[-7] != "x" else "y") + k[-6:],  # secret changed: checksum catches it
    lambda k: k[:4] + "zzzzzzzz" + k[12:],  # another prefix
])
def test_a_wrong_key_gets_401(alice, mangle):
    _, key = make_key(alice, "viewer")
    assert key_client(mangle(key)).get(SOURCES).status_code == 401


def test_last_used_is_written_at_most_once_a_minute(alice):
    api_key, key = make_key(alice, "viewer")
    key_client(key).get(SOURCES)
    first = ApiKey.objects.get(pk=api_key.pk).last_used_at
    assert first is not None
    key_client(key).get(SOURCES)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == first
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=first - timedelta(minutes=2))
    key_client(key).get(SOURCES)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at > first - timedelta(minutes=1)


# --- the identity and the throttle -------------------------------------------------------------

def test_the_identity_cannot_obtain_a_token_or_sign_in_to_the_admin_even_with_a_password(alice):
    api_key, _ = make_key(alice, "admin")
    identity = api_key.identity
    identity.set_password("a-password-somebody-set")
    identity.is_staff = True
    identity.save()
    token = APIClient().post("/api/v1/auth/token", {"username": identity.username,
                                                    "password": "a-password-somebody-set"}, format="json")
    assert token.status_code == 401
    client = Client()
    client.post("/admin/login/", {"username": identity.username, "password": "a-password-somebody-set"})
    assert client.get("/admin/").status_code == 302  # still sent to the login page


def test_wrong_keys_count_toward_the_addresss_login_throttle(settings, alice, bob):
    settings.AXES_FAILURE_LIMIT = 3
    _, good = make_key(alice, "viewer")
    bad = good[:-1] + ("A" if good[-1] != "A" else "B")
    for _ in range(2):
        assert key_client(bad, "192.0.2.80").get(SOURCES).status_code == 401
    third = key_client(bad, "192.0.2.80").get(SOURCES)
    assert third.status_code in (401, 429)
    locked = key_client(good, "192.0.2.80").get(SOURCES)
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    password = APIClient(REMOTE_ADDR="192.0.2.80").post(
        "/api/v1/auth/token", {"username": "bob", "password": "pw-bob"}, format="json")
    assert password.status_code == 429  # the same address's logins are locked too
    assert key_client(good, "192.0.2.81").get(SOURCES).status_code == 200  # other addresses are not


# --- the key never comes back out ---------------------------------------------------------------

def test_a_key_never_appears_after_its_creation(api, alice, workspace, caplog, client, settings):
    caplog.set_level(logging.DEBUG)
    created = api.post(KEYS, {"name": "Canary", "role": "editor"}, format="json").json()["data"]
    key, key_id = created["key"], created["id"]
    used = key_client(key)
    answers = [
        used.get(SOURCES), used.post(SOURCES, other_body(workspace), format="json"),
        api.get(KEYS), api.get(f"{KEYS}/{key_id}"), key_client(key[:-1] + "0").get(SOURCES),
    ]
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-long")
    client.force_login(root)
    answers += [client.get("/admin/accounts/apikey/"), client.get(f"/admin/accounts/apikey/{key_id}/change/"),
                client.get("/admin/auth/user/"), client.get("/admin/accounts/organization/")]
    answers.append(api.delete(f"{KEYS}/{key_id}"))

    for answer in answers:
        assert answer.status_code < 500
        assert key not in answer.content.decode()
        assert key[13:] not in answer.content.decode()  # not even the secret part
    assert created["prefix"] in answers[5].content.decode()  # the admin does show the key's page
    assert all(key[13:] not in record.getMessage() for record in caplog.records)
    assert all(key[13:] not in value for _, value in every_text_column())


def test_the_admin_revokes_keys(client, alice):
    api_key, key = make_key(alice, "viewer")
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-long")
    client.force_login(root)
    page = client.get("/admin/accounts/apikey/")
    assert page.status_code == 200 and api_key.prefix in page.content.decode()
    response = client.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]})
    assert response.status_code == 302
    assert ApiKey.objects.get(pk=api_key.pk).revoked_at is not None
    assert key_client(key).get(SOURCES).status_code == 401


def test_openapi_documents_the_key_scheme_and_routes(api):
    document = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert {"get", "post"} <= set(document["paths"]["/api/v1/api-keys"])
    assert {"get", "delete"} <= set(document["paths"]["/api/v1/api-keys/{id}"])
    assert "post" in document["paths"]["/api/v1/api-keys/{id}/rotate"]


def test_a_revoked_key_cannot_be_rotated_back_to_life(api, alice):
    api_key, key = make_key(alice, "viewer")
    api.delete(f"{KEYS}/{api_key.pk}")
    response = api.post(f"{KEYS}/{api_key.pk}/rotate")
    assert response.status_code == 409 and response.json()["error"]["code"] == "CONFLICT"
    assert ApiKey.objects.get(pk=api_key.pk).key_hash == api_key.key_hash
