from datasources.api.serializers import DataSourceSerializer
from datasources.models import DataSource
from datasources.security.crypto import Unreadable
from datasources.services.sources import data_source_create
from tests.conftest import client_for
from tests.conftest import source_url as url


def test_read_gives_the_spec_keys_then_which_secrets_are_set(api, source):
    response = api.get(url(source))
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    spec_keys = DataSourceSerializer.Meta.fields
    assert list(body["data"])[: len(spec_keys)] == spec_keys
    assert body["data"]["credentials_set"] == ["password"]
    assert body["data"]["has_connection_string"] is False
    assert body["data"]["credentials_readable"] is True
    assert body["data"]["id"] == source.pk


def test_read_never_returns_secret_values(api, source):
    text = api.get(url(source)).content.decode()
    assert "securepassword" not in text
    assert "credentials\"" not in text.replace("credentials_set", "").replace("credentials_readable", "")


def test_read_with_trailing_slash(api, source):
    assert api.get(url(source) + "/").status_code == 200


def test_connection_string_is_reported_only_as_present(api, alice, spec_body):
    spec_body.update(host=None, port=None, database_name=None,
                     connection_string="postgresql://dbuser:cs-secret@db.example.com:5432/production")
    source = data_source_create(actor=alice, data=spec_body)
    response = api.get(url(source))
    assert response.json()["data"]["has_connection_string"] is True
    assert "cs-secret" not in response.content.decode()


def test_another_organizations_source_is_404_like_a_missing_one(source, oscar):
    other = client_for(oscar).get(url(source))
    missing = client_for(oscar).get(url(source.pk + 1000))
    assert other.status_code == missing.status_code == 404
    assert other.json() == missing.json()
    assert other.json()["error"]["code"] == "NOT_FOUND"


def test_read_needs_authentication(source):
    assert client_for(None).get(url(source)).status_code == 401


def test_non_numeric_id_is_404(api, source):
    assert api.get("/api/v1/data-sources/abc").status_code == 404


def test_huge_id_is_404_not_500(api, source):
    assert api.get(url(10**30)).status_code == 404


def test_unreadable_credentials_still_read(api, source):
    DataSource.objects.filter(pk=source.pk).update(credentials=Unreadable(b"\x80not a value any key opens"))
    stored = DataSource.objects.get(pk=source.pk)
    assert isinstance(stored.credentials, Unreadable)
    response = api.get(url(source))
    assert response.status_code == 200
    assert response.json()["data"]["credentials_set"] == []
    assert response.json()["data"]["credentials_readable"] is False


def test_unreadable_connection_string_still_reads(api, source):
    DataSource.objects.filter(pk=source.pk).update(connection_string=Unreadable(b"garbage"))
    response = api.get(url(source))
    assert response.status_code == 200
    assert response.json()["data"]["has_connection_string"] is True
    assert response.json()["data"]["credentials_readable"] is False
