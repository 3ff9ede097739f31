"""No secret is ever rendered into an admin page or returned by the admin's test button."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasources.models import DataSource
from datasources.services.connections import data_source_test_connection
from datasources.services.files import stored_file_create
from datasources.services.sources import data_source_create
from tests.admin.test_admin import form_data, root, staff_client  # noqa: F401  (fixtures)
from tests.support.password_postgres import password_postgres  # noqa: F401  (fixture)

CANARY = "canary-9b7e-never-rendered"
BASE = "/admin/datasources/datasource"


@pytest.fixture
def secret_sources(org, root):
    """Sources holding the canary in every kind of secret the admin can set."""
    pg = data_source_create(actor=root, organization=org, data={
        "name": "Canary PG", "type": "postgresql",
        "connection_string": f"postgresql://u:{CANARY}cs@127.0.0.1:1/prod",
        "use_ssh_tunnel": True, "ssh_host": "bastion.example.com", "ssh_username": "jump",
        "credentials": {"username": "u", "password": f"{CANARY}pw", "ssh_private_key": f"{CANARY}key",
                        "ssh_passphrase": f"{CANARY}pass", "api_key": f"{CANARY}api"},
    })
    bq = data_source_create(actor=root, organization=org, data={
        "name": "Canary BQ", "type": "bigquery", "host": "bq.example.com", "port": 443, "database_name": "p",
        "credentials": {"service_account_json": f'{{"private_key": "{CANARY}sa"}}'},
    })
    s3 = data_source_create(actor=root, organization=org, data={
        "name": "Canary S3", "type": "s3",
        "file_path": stored_file_create(actor=root, organization=org,
                                        upload=SimpleUploadedFile("a.csv", b"a\n1\n")).name,
        "credentials": {"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": f"{CANARY}aws"},
    })
    # Failure reasons land on the pages too. (Not BigQuery: importing its client here would defeat
    # the missing-driver test of tests/connectors, which hides the module afterwards.)
    for source in (pg, s3):
        data_source_test_connection(source=source)
    return pg, bq, s3


def test_no_admin_page_renders_a_secret(staff_client, secret_sources, django_capture_on_commit_callbacks):
    pages = [f"{BASE}/", f"{BASE}/add/", "/admin/datasources/storedfile/", "/admin/datasources/storedfile/add/", "/"]
    for source in secret_sources:
        pages += [f"{BASE}/{source.pk}/change/", f"{BASE}/{source.pk}/change/?table_q=x"]
        pages += [f"{BASE}/{source.pk}/panels/{key}/" for key in ("connection", "discovery", "schema")]
        if source.type == "bigquery":
            continue
        with django_capture_on_commit_callbacks(execute=True):
            staff_client.post(f"{BASE}/{source.pk}/discover/")
        staff_client.post(f"{BASE}/{source.pk}/test-saved/")
    for page in pages:
        response = staff_client.get(page)
        assert response.status_code == 200, page
        assert CANARY not in response.content.decode(), page
    # Messages of the test-saved button are shown on the next page.
    assert CANARY not in staff_client.get(f"{BASE}/").content.decode()


def test_test_button_never_returns_a_secret(staff_client, org, secret_sources):
    pg = secret_sources[0]
    for url, data in [
        (f"{BASE}/test-connection/", form_data(org, credential_password=f"{CANARY}typed", host="127.0.0.1", port="1")),
        (f"{BASE}/test-connection/", form_data(org, connection_string=f"postgresql://u:{CANARY}@127.0.0.1:1/x")),
        (f"{BASE}/{pg.pk}/test-connection/", form_data(org, name="Canary PG", host="", port="", database_name="",
                                                        credential_password="", use_ssh_tunnel="on",
                                                        ssh_host="bastion.example.com", ssh_username="jump")),
        (f"{BASE}/test-connection/", form_data(org, port="x", credential_password=f"{CANARY}typed")),
    ]:
        response = staff_client.post(url, data)
        assert CANARY not in response.content.decode(), (url, response.content[:300])


@pytest.mark.services
def test_wrong_password_failure_never_quotes_it(staff_client, org, password_postgres):
    wrong = f"{CANARY}wrong"
    body = staff_client.post(f"{BASE}/test-connection/", form_data(
        org, host="127.0.0.1", port=str(password_postgres.port), database_name="postgres",
        credential_username=password_postgres.user, credential_password=wrong,
    )).json()
    assert body["status"] == "failed" and body["error_code"] == "AUTH_FAILED"
    assert CANARY not in str(body)
    assert not DataSource.objects.filter(name="Warehouse").exists()


def test_a_form_with_errors_never_renders_the_typed_secrets(staff_client, org):
    response = staff_client.post(f"{BASE}/add/", form_data(
        org, port="x", credential_password=f"{CANARY}typed",
        connection_string=f"postgresql://u:{CANARY}@h:1/x", credential_ssh_private_key=f"{CANARY}key",
    ))
    assert response.status_code == 200
    assert CANARY not in response.content.decode()
