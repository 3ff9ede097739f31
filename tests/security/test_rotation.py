"""Key rotation: values survive a change of both keys through rotate_encryption_keys."""
import json
import pickle
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django_cryptography.utils.crypto import FernetBytes

from datasources.connectors.base import ConnectorError, credentials_of
from datasources.models import DataSource
from datasources.security.crypto import (
    Unreadable,
    current_keys,
    decrypt_value,
    encrypt_value,
)
from datasources.services.sources import data_source_create
from tests.conftest import client_for
from tests.support import post_test

OLD = {"SECRET_KEY": "old-secret-key-for-rotation-tests", "CRYPTOGRAPHY_KEY": "old-cryptography-key"}
NEW = {"SECRET_KEY": "new-secret-key-for-rotation-tests", "CRYPTOGRAPHY_KEY": "new-cryptography-key"}
OLD_AS_PREVIOUS = {"OLD_SECRET_KEY": OLD["SECRET_KEY"], "OLD_CRYPTOGRAPHY_KEY": OLD["CRYPTOGRAPHY_KEY"]}
NO_PREVIOUS = {"OLD_SECRET_KEY": None, "OLD_CRYPTOGRAPHY_KEY": None}


def rotate(**options):
    out, err = StringIO(), StringIO()
    call_command("rotate_encryption_keys", stdout=out, stderr=err, **options)
    return json.loads(out.getvalue()), err.getvalue()


def raw_column(source, column="credentials"):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM datasources_datasource WHERE id = %s", [source.pk])
        value = cursor.fetchone()[0]
    return None if value is None else bytes(value)


@pytest.fixture
def old_sources(alice, spec_body):
    """Two sources written under the OLD keys, one with a connection string."""
    with override_settings(**OLD, **NO_PREVIOUS):
        first = data_source_create(actor=alice, data=spec_body)
        second = data_source_create(actor=alice, data={
            **spec_body, "name": "Second", "host": None, "port": None, "database_name": None,
            "connection_string": "postgresql://u:cs-pw@db.example.com:5432/production",
        })
    return first, second


def test_values_are_unreadable_after_a_key_change_without_rotation(old_sources):
    with override_settings(**NEW, **NO_PREVIOUS):
        source = DataSource.objects.get(pk=old_sources[0].pk)
        assert isinstance(source.credentials, Unreadable)
        with pytest.raises(ConnectorError) as error:
            credentials_of(source)
        assert error.value.code == "CREDENTIALS_UNREADABLE"


def test_rotation_makes_values_survive_a_change_of_both_keys(old_sources):
    first, second = old_sources
    before = raw_column(first)
    with override_settings(**NEW, **OLD_AS_PREVIOUS):
        report, _ = rotate(batch_size=1)
    assert report["changed"] == 3  # two credentials, one connection string
    assert report["unreadable"] == 0 and report["checked"] == 3
    assert raw_column(first) != before
    with override_settings(**NEW, **NO_PREVIOUS):  # the old keys are gone for good
        assert DataSource.objects.get(pk=first.pk).credentials == {"username": "dbuser", "password": "securepassword"}
        assert DataSource.objects.get(pk=second.pk).connection_string.endswith("@db.example.com:5432/production")


def test_a_second_run_changes_nothing(old_sources):
    with override_settings(**NEW, **OLD_AS_PREVIOUS):
        rotate()
        raw = raw_column(old_sources[0])
        report, _ = rotate()
    assert report["changed"] == 0 and report["already_current"] == 3
    assert raw_column(old_sources[0]) == raw


def test_a_wrong_old_key_leaves_data_untouched_and_says_so(old_sources):
    before = [raw_column(s) for s in old_sources]
    with override_settings(**NEW, OLD_SECRET_KEY="not-the-old-key", OLD_CRYPTOGRAPHY_KEY="nor-this"):
        with pytest.raises(CommandError) as error:
            rotate()
    assert "left untouched" in str(error.value)
    assert [raw_column(s) for s in old_sources] == before
    with override_settings(**NEW, **OLD_AS_PREVIOUS):  # the right key still recovers them
        assert rotate()[0]["changed"] == 3


def test_report_names_unreadable_rows_without_their_contents(old_sources):
    out = StringIO()
    with override_settings(**NEW, **NO_PREVIOUS):
        with pytest.raises(CommandError):
            call_command("rotate_encryption_keys", stdout=out, stderr=StringIO())
    report = json.loads(out.getvalue())
    assert f"datasources.DataSource.credentials#{old_sources[0].pk}" in report["unreadable_values"]
    assert "securepassword" not in out.getvalue() and "cs-pw" not in out.getvalue()


def test_dry_run_counts_but_writes_nothing(old_sources):
    before = raw_column(old_sources[0])
    with override_settings(**NEW, **OLD_AS_PREVIOUS):
        report, _ = rotate(dry_run=True)
    assert report["changed"] == 3 and report["dry_run"] is True
    assert raw_column(old_sources[0]) == before


def test_previous_keys_keep_the_service_reading_before_rotation(old_sources):
    with override_settings(**NEW, **OLD_AS_PREVIOUS):
        assert DataSource.objects.get(pk=old_sources[0].pk).credentials["password"] == "securepassword"


def test_old_secret_key_alone_covers_a_cryptography_key_that_followed_it(alice, spec_body):
    with override_settings(SECRET_KEY="only-secret-old", CRYPTOGRAPHY_KEY="only-secret-old", **NO_PREVIOUS):
        source = data_source_create(actor=alice, data=spec_body)
    with override_settings(SECRET_KEY="only-secret-new", CRYPTOGRAPHY_KEY="only-secret-new",
                           OLD_SECRET_KEY="only-secret-old", OLD_CRYPTOGRAPHY_KEY=None):
        assert rotate()[0]["changed"] == 1
        assert DataSource.objects.get(pk=source.pk).credentials["password"] == "securepassword"


def test_unreadable_source_reads_through_the_api_and_its_test_says_so(old_sources, alice):
    with override_settings(**NEW, **NO_PREVIOUS):
        client = client_for(alice)
        read = client.get(f"/api/v1/data-sources/{old_sources[0].pk}")
        listed = client.get("/api/v1/data-sources")
        tested = post_test(client, old_sources[0].pk)
    assert read.status_code == 200 and read.json()["data"]["credentials_readable"] is False
    assert listed.status_code == 200 and len(listed.json()["data"]) == 2
    assert tested.status_code == 200, tested.json()
    assert tested.json()["data"]["error_code"] == "CREDENTIALS_UNREADABLE"


def test_reads_values_written_by_django_cryptography_itself(alice, spec_body):
    """Rows written before the tolerant field existed open unchanged (same format, same keys)."""
    source = data_source_create(actor=alice, data=spec_body)
    legacy = FernetBytes().encrypt(pickle.dumps({"password": "from-the-old-field"}))
    DataSource.objects.filter(pk=source.pk).update(credentials=Unreadable(legacy))
    assert DataSource.objects.get(pk=source.pk).credentials == {"password": "from-the-old-field"}


def test_encrypt_and_decrypt_round_trip():
    value = {"password": "p", "nested": [1, 2]}
    assert decrypt_value(encrypt_value(value)) == (value, "current")
    assert current_keys().secret_key


def test_unreadable_connection_string_fails_the_test_like_unreadable_credentials(alice, spec_body):
    body = {**spec_body, "host": None, "port": None, "database_name": None,
            "connection_string": "postgresql://u:pw@10.255.255.1:5432/production"}
    source = data_source_create(actor=alice, data=body)
    DataSource.objects.filter(pk=source.pk).update(connection_string=Unreadable(b"\x80lost"))
    response = post_test(client_for(alice), source.pk)
    assert response.status_code == 200, response.json()
    assert response.json()["data"]["error_code"] == "CREDENTIALS_UNREADABLE"
