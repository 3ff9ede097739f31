"""Encryption at rest: the raw credentials and connection_string columns hold no plaintext."""
import base64

import pytest
from django.db import connection

from datasources.models import DataSource

URL = "/api/v1/data-sources"
PASSWORD = "securepassword-7f3a"
CONNECTION_STRING = "postgresql://dbuser:cs-pw-91bc@pg.internal:6543/analytics"


def raw_row(pk):
    """Every column of the row as the database stores it, read past the ORM."""
    table = connection.ops.quote_name(DataSource._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])
        names = [column[0] for column in cursor.description]
        return dict(zip(names, cursor.fetchone()))


def as_bytes(value):
    if value is None:
        return b""
    if isinstance(value, (bytes, memoryview)):
        return bytes(value)  # memoryview from psycopg
    return str(value).encode()  # text, JSON (dict/list from psycopg), numbers, dates


@pytest.fixture
def created(api, spec_body):
    spec_body["credentials"]["password"] = PASSWORD
    spec_body["credentials"]["api_key"] = "api-key-55e1"
    response = api.post(URL, {**spec_body, "connection_string": CONNECTION_STRING}, format="json")
    assert response.status_code == 201, response.json()
    return DataSource.objects.get(pk=response.json()["data"]["id"])


def test_raw_credentials_and_connection_string_hold_no_plaintext(created):
    row = raw_row(created.pk)

    for column in ("credentials", "connection_string"):
        stored = as_bytes(row[column])
        assert stored, column
        for secret in (PASSWORD, "cs-pw-91bc", "api-key-55e1", "dbuser", "pg.internal"):
            assert secret.encode() not in stored, (column, secret)
            assert base64.b64encode(secret.encode()) not in stored, (column, secret)


def test_no_column_of_the_row_holds_a_secret(created):
    for name, value in raw_row(created.pk).items():
        text = as_bytes(value)
        for secret in (PASSWORD, "cs-pw-91bc", "api-key-55e1"):
            assert secret.encode() not in text, name


def test_the_orm_reads_the_plaintext_back(created):
    source = DataSource.objects.get(pk=created.pk)

    assert source.credentials == {"username": "dbuser", "password": PASSWORD, "api_key": "api-key-55e1"}
    assert source.connection_string == CONNECTION_STRING


def test_same_plaintext_encrypts_differently_each_time(api, spec_body):
    ids = [api.post(URL, {**spec_body, "name": f"copy {i}"}, format="json").json()["data"]["id"] for i in (1, 2)]

    first, second = (as_bytes(raw_row(pk)["credentials"]) for pk in ids)
    assert first != second  # Fernet uses a fresh IV: equal secrets are not recognisable


def test_a_source_without_connection_string_stores_null(api, spec_body):
    pk = api.post(URL, spec_body, format="json").json()["data"]["id"]
    assert raw_row(pk)["connection_string"] is None
