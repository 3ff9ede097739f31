"""Login throttling (django-axes): per username and per client address, 429 with Retry-After."""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

TOKEN_URL = "/api/v1/auth/token"
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def _low_limit(settings):
    settings.AXES_FAILURE_LIMIT = 3


def token(username, password, address="203.0.113.5"):
    return APIClient(REMOTE_ADDR=address).post(TOKEN_URL, {"username": username, "password": password}, format="json")


def assert_429(response):
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) > 0


def test_wrong_passwords_for_one_username_lock_it_with_429_in_the_envelope(alice):
    for address in ("198.51.100.1", "198.51.100.2"):  # a different address each time
        assert token("alice", "wrong", address).status_code == 401
    assert_429(token("alice", "wrong", "198.51.100.3"))  # the third failure reaches the limit
    locked = token("alice", "pw-alice", "198.51.100.4")  # and even the right password is refused now
    assert_429(locked)
    assert locked.json()["success"] is False
    assert locked.json()["error"]["code"] == "RATE_LIMITED"
    assert "pw-alice" not in locked.content.decode()


def test_wrong_passwords_from_one_address_lock_that_address(alice, bob):
    for name in ("mallory1", "mallory2"):  # a different username each time
        assert token(name, "guess", "192.0.2.66").status_code == 401
    assert_429(token("mallory3", "guess", "192.0.2.66"))
    assert_429(token("bob", "pw-bob", "192.0.2.66"))
    assert token("bob", "pw-bob", "192.0.2.67").status_code == 200  # other addresses are not affected


def test_a_success_before_the_limit_resets_the_count(alice):
    for _ in range(2):
        assert token("alice", "wrong").status_code == 401
    assert token("alice", "pw-alice").status_code == 200
    for _ in range(2):
        assert token("alice", "wrong").status_code == 401
    assert token("alice", "pw-alice").status_code == 200


def test_admin_login_is_throttled_too(db):
    get_user_model().objects.create_user("staffer", password="pw-staffer-long", is_staff=True)
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(2):
        assert client.post(ADMIN_LOGIN, {"username": "staffer", "password": "wrong"}).status_code == 200
    assert_429(client.post(ADMIN_LOGIN, {"username": "staffer", "password": "wrong"}))
    response = client.post(ADMIN_LOGIN, {"username": "staffer", "password": "pw-staffer-long"})
    assert_429(response)
    assert "pw-staffer-long" not in response.content.decode()


def test_the_client_address_behind_a_proxy_is_the_one_the_proxy_saw(alice, settings):
    settings.LOGIN_THROTTLE_PROXY_COUNT = 1
    for _ in range(2):
        response = APIClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.8").post(
            TOKEN_URL, {"username": "nobody-here", "password": "x"}, format="json")
        assert response.status_code == 401
    proxied = APIClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert_429(proxied.post(TOKEN_URL, {"username": "bob", "password": "x"}, format="json"))
    other = APIClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert other.post(TOKEN_URL, {"username": "alice", "password": "pw-alice"}, format="json").status_code == 200
