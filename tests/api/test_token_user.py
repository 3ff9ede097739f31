"""The token check reads the token's user itself (accounts.authentication): the same user and
the same refusals as simplejwt's, each a 401 in the envelope."""
from rest_framework_simplejwt.tokens import AccessToken

from accounts.authentication import JWTAuthentication
from datasources.models import DataSource
from tests.api.test_auth import CREATE_URL, assert_401, bearer


def test_the_user_read_is_the_whole_user(alice):
    user = JWTAuthentication().get_user(AccessToken.for_user(alice))
    assert (user.pk, user.username, user.password, user.is_active) == (
        alice.pk, alice.username, alice.password, True,
    )
    assert user.memberships.get().organization_id == alice.memberships.get().organization_id


def test_token_of_a_user_deactivated_after_issue_is_401(alice, spec_body):
    token = str(AccessToken.for_user(alice))
    alice.is_active = False
    alice.save()
    assert_401(bearer(token).post(CREATE_URL, spec_body, format="json"))
    assert not DataSource.objects.exists()


def test_token_without_a_user_id_is_401(alice, spec_body):
    token = AccessToken.for_user(alice)
    del token["user_id"]
    assert_401(bearer(str(token)).post(CREATE_URL, spec_body, format="json"))


def test_token_of_the_right_user_creates_as_that_user(alice, bob, spec_body):
    response = bearer(str(AccessToken.for_user(alice))).post(CREATE_URL, spec_body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["data"]["created_by_user_id"] == alice.pk != bob.pk
