from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Workspace
from datasources.models import DataSource
from datasources.services.sources import data_source_create
from tests.conftest import SPEC_BODY, client_for

URL = "/api/v1/data-sources"
PASSWORD = "list-Secret-pw-4c1a"


def make(actor, workspace, name, **fields):
    body = {**SPEC_BODY, "workspace_id": workspace.pk, "name": name, **fields}
    body["credentials"] = fields.get("credentials", {"username": "u", "password": PASSWORD})
    return data_source_create(actor=actor, data=body)


def names(response):
    return [item["name"] for item in response.json()["data"]]


@pytest.fixture
def three(alice, workspace):
    """Three sources created a minute apart: Alpha (oldest), beta, Gamma (newest)."""
    sources = [
        make(alice, workspace, "Alpha", tags=["prod", "db"], description="orders warehouse"),
        make(alice, workspace, "beta", type="mysql", port=3306, host="mysql.internal", tags=["staging"]),
        make(alice, workspace, "Gamma", type="mariadb", port=3306, tags=["prod"]),
    ]
    start = timezone.now() - timedelta(hours=1)
    for minutes, source in enumerate(sources):
        DataSource.objects.filter(pk=source.pk).update(
            created_at=start + timedelta(minutes=minutes), updated_at=start + timedelta(minutes=10 - minutes)
        )
    DataSource.objects.filter(pk=sources[1].pk).update(status="active")
    return sources


def test_list_is_the_envelope_with_pagination(api, three):
    response = api.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["pagination"] == {"page": 1, "page_size": 20, "total": 3, "total_pages": 1}
    assert names(response) == ["Gamma", "beta", "Alpha"]  # newest first by default


def test_list_items_carry_secret_names_never_values(api, three):
    response = api.get(URL)
    item = response.json()["data"][0]
    assert item["credentials_set"] == ["password"]
    assert item["has_connection_string"] is False
    assert "credentials" not in item and "connection_string" not in item
    assert PASSWORD not in response.content.decode()


def test_empty_list_is_an_empty_first_page(api, workspace):
    response = api.get(URL)
    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["pagination"] == {"page": 1, "page_size": 20, "total": 0, "total_pages": 0}


def test_list_shows_only_the_callers_organizations(three, oscar, other_workspace):
    make(oscar, other_workspace, "Globex source")
    assert names(client_for(oscar).get(URL)) == ["Globex source"]


def test_user_without_membership_gets_an_empty_list(three, nobody):
    response = client_for(nobody).get(URL)
    assert response.status_code == 200
    assert response.json()["data"] == []


def test_list_needs_authentication(three):
    response = client_for(None).get(URL)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


def test_filter_by_workspace(api, three, alice, org):
    other = Workspace.objects.create(organization=org, name="Marketing")
    make(alice, other, "Delta")
    assert names(api.get(URL, {"workspace_id": other.pk})) == ["Delta"]


def test_filter_by_one_type(api, three):
    assert names(api.get(URL, {"type": "mysql"})) == ["beta"]


def test_filter_by_several_types(api, three):
    assert names(api.get(URL + "?type=mysql&type=postgresql")) == ["beta", "Alpha"]


def test_filter_by_status(api, three):
    assert names(api.get(URL, {"status": "active"})) == ["beta"]
    assert names(api.get(URL, {"status": "inactive"})) == ["Gamma", "Alpha"]


def test_filter_by_tag(api, three):
    assert names(api.get(URL, {"tag": "prod"})) == ["Gamma", "Alpha"]


def test_filter_by_tag_matches_whole_tags_only(api, three):
    assert names(api.get(URL, {"tag": "pro"})) == []


def test_filter_by_several_tags_needs_all_of_them(api, three):
    assert names(api.get(URL + "?tag=prod&tag=db")) == ["Alpha"]


@pytest.mark.parametrize("term, expected", [
    ("alp", ["Alpha"]),            # name, case-insensitive
    ("WAREHOUSE", ["Alpha"]),      # description
    ("mysql.internal", ["beta"]),  # host
    ("nothing-like-this", []),
])
def test_search_in_name_description_and_host(api, three, term, expected):
    assert names(api.get(URL, {"search": term})) == expected


def test_filters_combine(api, three):
    assert names(api.get(URL, {"tag": "prod", "type": "mariadb"})) == ["Gamma"]


@pytest.mark.parametrize("ordering, expected", [
    ("name", ["Alpha", "beta", "Gamma"]),
    ("-name", ["Gamma", "beta", "Alpha"]),
    ("created_at", ["Alpha", "beta", "Gamma"]),
    ("-created_at", ["Gamma", "beta", "Alpha"]),
    ("updated_at", ["Gamma", "beta", "Alpha"]),
    ("-updated_at", ["Alpha", "beta", "Gamma"]),
    ("status", ["beta", "Alpha", "Gamma"]),   # active < inactive; ties by id
    ("-status", ["Gamma", "Alpha", "beta"]),  # ties by id, descending
])
def test_ordering(api, three, ordering, expected):
    response = api.get(URL, {"ordering": ordering})
    assert response.status_code == 200
    assert names(response) == expected


@pytest.mark.parametrize("params, field", [
    ({"type": "nosuchdb"}, "type"),
    ({"status": "broken"}, "status"),
    ({"workspace_id": "abc"}, "workspace_id"),
    ({"ordering": "password"}, "ordering"),
    ({"search": "x" * 300}, "search"),
    ({"page_size": "0"}, "page_size"),
    ({"page_size": "ten"}, "page_size"),
    ({"page": "-1"}, "page"),
    ({"page": "first"}, "page"),
])
def test_bad_query_parameters_are_400(api, three, params, field):
    response = api.get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "BAD_REQUEST"
    assert field in body["error"]["details"]


def test_page_size_and_pages(api, three):
    first = api.get(URL, {"page_size": 2, "ordering": "created_at"}).json()
    second = api.get(URL, {"page_size": 2, "page": 2, "ordering": "created_at"}).json()
    assert [s["name"] for s in first["data"]] == ["Alpha", "beta"]
    assert [s["name"] for s in second["data"]] == ["Gamma"]
    assert second["pagination"] == {"page": 2, "page_size": 2, "total": 3, "total_pages": 2}


def test_page_past_the_end_is_404_in_the_envelope(api, three):
    response = api.get(URL, {"page": 2})
    assert response.status_code == 404
    assert response.json()["success"] is False
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_page_size_over_100_is_capped_at_100(api, alice, workspace):
    DataSource.objects.bulk_create([
        DataSource(
            organization=workspace.organization, workspace=workspace, name=f"s{i}", name_key=f"s{i}",
            type="postgresql", created_at=timezone.now(), updated_at=timezone.now(),
        )
        for i in range(105)
    ])
    body = api.get(URL, {"page_size": 500}).json()
    assert len(body["data"]) == 100
    assert body["pagination"] == {"page": 1, "page_size": 100, "total": 105, "total_pages": 2}


@pytest.mark.parametrize("page_size", [1, 100])
def test_a_page_costs_one_query_for_rows_and_one_for_the_count(api, alice, workspace, page_size):
    DataSource.objects.bulk_create([
        DataSource(
            organization=workspace.organization, workspace=workspace, name=f"s{i}", name_key=f"s{i}",
            type="postgresql", tags=["t"], created_at=timezone.now(), updated_at=timezone.now(),
        )
        for i in range(120)
    ])
    api.get(URL)  # warm up anything cached per process
    with CaptureQueriesContext(connection) as queries:
        response = api.get(URL, {"page_size": page_size, "page": 2, "tag": "t", "search": "s"})
    assert response.status_code == 200
    assert len(response.json()["data"]) == (1 if page_size == 1 else 20)
    data_queries = [q["sql"] for q in queries.captured_queries if "datasources_datasource" in q["sql"]]
    assert len(data_queries) == 2, data_queries
    assert any("COUNT(" in q.upper() for q in data_queries)
    # the other reads: the token's user and the caller's organization ids
    assert len(queries.captured_queries) == 4, [q["sql"] for q in queries.captured_queries]
