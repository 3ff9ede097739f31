"""Unique names per organization: 409 on a duplicate, and concurrent creates give one 201 and 409s."""
import threading

import pytest
from django.db import connection

from datasources.models import DataSource
from tests.conftest import client_for

URL = "/api/v1/data-sources"
THREADS = 8


def post(client, body):
    return client.post(URL, body, format="json")


# --- sequential duplicates -----------------------------------------------------------------------

@pytest.mark.parametrize("again", [
    "Production PostgreSQL", "production postgresql", "  PRODUCTION POSTGRESQL  ", "\tProduction PostgreSQL\n",
])
def test_duplicate_name_is_409(api, spec_body, again):
    assert post(api, spec_body).status_code == 201

    response = post(api, {**spec_body, "name": again})
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "CONFLICT"
    assert "already exists" in error["message"]
    assert "name" in error["details"]
    assert DataSource.objects.count() == 1


def test_duplicate_with_another_type_or_workspace_is_still_409(api, spec_body):
    post(api, spec_body)
    body = {**spec_body, "type": "mysql", "workspace_id": None, "credentials": {}}
    assert post(api, body).status_code == 409


def test_case_folding_catches_eszett(api, spec_body):
    assert post(api, {**spec_body, "name": "Straße"}).status_code == 201
    assert post(api, {**spec_body, "name": "STRASSE"}).status_code == 409


def test_long_folded_names_stay_distinct_and_duplicates_conflict(api, spec_body):
    # Both fold past the key column's length; only the last character differs.
    first, second = "ß" * 254 + "a", "ß" * 254 + "b"
    assert post(api, {**spec_body, "name": first}).status_code == 201
    assert post(api, {**spec_body, "name": second}).status_code == 201
    # Capital sharp s (U+1E9E) also folds to "ss": same length, same key.
    assert post(api, {**spec_body, "name": "\u1e9e" * 254 + "A"}).status_code == 409


def test_same_name_in_another_organization_is_fine(api, oscar, spec_body):
    assert post(api, spec_body).status_code == 201
    body = {**spec_body, "workspace_id": None}
    response = post(client_for(oscar), body)

    assert response.status_code == 201, response.json()
    assert DataSource.objects.count() == 2


def test_a_failed_validation_does_not_reserve_the_name(api, spec_body):
    assert post(api, {**spec_body, "port": 0}).status_code == 400
    assert post(api, spec_body).status_code == 201


def test_409_does_not_leak_the_other_sources_secrets(api, spec_body):
    post(api, spec_body)
    response = post(api, spec_body)
    assert "securepassword" not in response.content.decode()


# --- concurrent creates --------------------------------------------------------------------------

def race(bodies_and_clients):
    """POST every body at once from its own thread; return the status codes."""
    barrier = threading.Barrier(len(bodies_and_clients))
    statuses, errors = [], []

    def worker(client, body):
        try:
            barrier.wait(timeout=10)
            statuses.append(post(client, body).status_code)
        except Exception as exc:  # recorded, so that the test fails with the reason
            errors.append(repr(exc))
        finally:
            connection.close()  # each thread has its own connection; leave none open

    threads = [threading.Thread(target=worker, args=pair) for pair in bodies_and_clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(statuses) == len(bodies_and_clients)
    return statuses


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_one_name_give_one_201_and_409s(alice, spec_body):
    # One client per thread: an APIClient is not meant to be shared across threads.
    pairs = [(client_for(alice), {**spec_body, "name": "  RACE name  " if i % 2 else "race NAME"})
             for i in range(THREADS)]

    statuses = race(pairs)

    assert sorted(statuses) == [201] + [409] * (THREADS - 1), statuses
    assert DataSource.objects.filter(name_key="race name").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_different_names_all_succeed(alice, spec_body):
    pairs = [(client_for(alice), {**spec_body, "name": f"source {i}"}) for i in range(THREADS)]

    assert race(pairs) == [201] * THREADS
    assert DataSource.objects.count() == THREADS


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_in_two_organizations_both_win(alice, oscar, spec_body):
    body = {**spec_body, "workspace_id": None}
    pairs = [(client_for(alice if i % 2 else oscar), body) for i in range(THREADS)]

    assert sorted(race(pairs)) == [201, 201] + [409] * (THREADS - 2)
    assert sorted(DataSource.objects.values_list("organization__name", flat=True)) == ["Acme", "Globex"]
