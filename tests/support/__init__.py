"""Helpers the tests share: servers they start, clients, file fixtures, and the services rule."""
import os

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken


def require_services() -> bool:
    return os.environ.get("REQUIRE_SERVICES") == "1"


def need(reachable: bool, what: str):
    """Skip locally, fail in CI (REQUIRE_SERVICES=1), when a server is not there."""
    if reachable:
        return
    if require_services():
        pytest.fail(f"{what} is required (REQUIRE_SERVICES=1) but not reachable")
    pytest.skip(f"{what} not reachable")


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client
