"""Bearer tokens: POST /api/v1/auth/token and /refresh, and how the API treats bad tokens."""
from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from datasources.models import DataSource

TOKEN_URL = "/api/v1/auth/token"
REFRESH_URL = "/api/v1/auth/token/refresh"
CREATE_URL = "/api/v1/data-sources"


def obtain(username, password):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json")


def bearer(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def assert_401(response):
    assert response.status_code == 401, response.content
    assert response.json()["success"] is False
    assert response.json()["error"]["code"] == "UNAUTHORIZED"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_token_body_has_the_documented_keys(alice):
    response = obtain("alice", "pw-alice")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    assert set(data) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert data["token_type"] == "Bearer"
    assert isinstance(data["expires_in"], int) and data["expires_in"] > 0
    assert data["access_token"] != data["refresh_token"]


def test_issued_token_creates_a_source(alice, spec_body):
    access = obtain("alice", "pw-alice").json()["data"]["access_token"]

    response = bearer(access).post(CREATE_URL, spec_body, format="json")
    assert response.status_code == 201
    assert response.json()["data"]["created_by_user_id"] == alice.pk


def test_expires_in_matches_the_token(alice):
    data = obtain("alice", "pw-alice").json()["data"]
    token = AccessToken(data["access_token"])

    assert abs((token["exp"] - token["iat"]) - data["expires_in"]) <= 1


@pytest.mark.parametrize("username,password", [("alice", "wrong"), ("nosuchuser", "pw-alice"), ("ALICE", "pw-alice")])
def test_bad_credentials_are_401(alice, username, password):
    assert_401(obtain(username, password))


def test_password_is_never_echoed(alice):
    response = obtain("alice", "wrong-secret-xyz")
    assert "wrong-secret-xyz" not in response.content.decode()


def test_inactive_user_gets_no_token(alice):
    alice.is_active = False
    alice.save()
    assert_401(obtain("alice", "pw-alice"))


@pytest.mark.parametrize("body", [
    {}, {"username": "alice"}, {"username": 1, "password": "x"}, {"username": "alice", "password": ""},
])
def test_malformed_token_request_is_400(alice, body):
    response = APIClient().post(TOKEN_URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"


def test_refresh_gives_a_working_access_token(alice, spec_body):
    refresh = obtain("alice", "pw-alice").json()["data"]["refresh_token"]

    response = APIClient().post(REFRESH_URL, {"refresh_token": refresh}, format="json")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["token_type"] == "Bearer" and data["expires_in"] > 0
    assert bearer(data["access_token"]).post(CREATE_URL, spec_body, format="json").status_code == 201


@pytest.mark.parametrize("kind", ["garbage", "access"])
def test_refresh_with_something_else_than_a_refresh_token_is_401(alice, kind):
    token = "not.a.token" if kind == "garbage" else obtain("alice", "pw-alice").json()["data"]["access_token"]
    assert_401(APIClient().post(REFRESH_URL, {"refresh_token": token}, format="json"))


def test_refresh_token_is_not_an_access_token(alice, spec_body):
    refresh = obtain("alice", "pw-alice").json()["data"]["refresh_token"]
    assert_401(bearer(refresh).post(CREATE_URL, spec_body, format="json"))


@pytest.mark.parametrize("header", [
    "Bearer not-a-jwt", "Bearer ", "Token abc", "Basic YWxpY2U6cHctYWxpY2U=", "bearer",
])
def test_invalid_authorization_header_is_401(alice, spec_body, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.post(CREATE_URL, spec_body, format="json")

    assert_401(response)
    assert not DataSource.objects.exists()


def test_expired_token_is_401(alice, spec_body):
    token = AccessToken.for_user(alice)
    token.set_exp(lifetime=-timedelta(seconds=5))
    assert_401(bearer(str(token)).post(CREATE_URL, spec_body, format="json"))


def test_token_signed_with_another_key_is_401(alice, spec_body):
    import jwt

    payload = dict(AccessToken.for_user(alice).payload)
    forged = jwt.encode(payload, "not-the-server-key-but-long-enough-for-hs256", algorithm="HS256")
    assert_401(bearer(forged).post(CREATE_URL, spec_body, format="json"))


def test_token_of_a_deleted_user_is_401(alice, spec_body):
    token = str(RefreshToken.for_user(alice).access_token)
    alice.delete()
    assert_401(bearer(token).post(CREATE_URL, spec_body, format="json"))


def test_token_endpoint_rejects_form_encoding(alice):
    response = APIClient().post(TOKEN_URL, "username=alice&password=pw-alice",
                                content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
