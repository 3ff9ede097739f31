"""The admin's TLS section: the tls object and the client key through the same service, the server
certificate on the change page, the test's steps as a checklist; never the private key."""
import json

import pytest

from datasources.models import DataSource
from tests.admin.test_admin import form_data, root, staff_client  # noqa: F401  (fixtures)
from tests.support.certificates import shared_authority


def test_the_tls_section_saves_through_the_service_and_never_shows_the_key(staff_client, org):  # noqa: F811
    client = shared_authority().issue("dbuser", client=True)
    tls = {"mode": "verify-full", "ca_certificate": shared_authority().pem, "client_certificate": client.cert_pem}
    response = staff_client.post("/admin/datasources/datasource/add/", form_data(
        org, tls=json.dumps(tls), credential_tls_client_key=client.key_pem))
    assert response.status_code == 302, response.content.decode()[:3000]
    source = DataSource.objects.get()
    assert source.tls == tls and source.credentials["tls_client_key"] == client.key_pem
    page = staff_client.get(f"/admin/datasources/datasource/{source.pk}/change/").content.decode()
    assert ">TLS<" in page and "Server certificate" in page and "tls_client_key" in page
    assert "PRIVATE KEY" not in page and client.key_pem.splitlines()[1] not in page


def test_a_key_without_its_certificate_is_an_error_on_the_form(staff_client, org):  # noqa: F811
    key = shared_authority().issue("dbuser", client=True).key_pem
    response = staff_client.post("/admin/datasources/datasource/add/", form_data(org, credential_tls_client_key=key))
    assert response.status_code == 200 and "give the client certificate it belongs to" in response.content.decode()
    assert not DataSource.objects.exists()


@pytest.mark.services
def test_the_saved_test_shows_the_steps_checklist(staff_client, org, tls_postgres):  # noqa: F811
    tls = {"mode": "verify-full", "ca_certificate": shared_authority().pem}
    staff_client.post("/admin/datasources/datasource/add/", form_data(
        org, host="localhost", port=str(tls_postgres.port), database_name="postgres", credential_username="postgres",
        credential_password="", schema_auto_refresh="", tls=json.dumps(tls)))
    source = DataSource.objects.get()
    response = staff_client.post(f"/admin/datasources/datasource/{source.pk}/test-saved/", follow=True)
    text = response.content.decode()
    assert "✓ resolve, ✓ connect, ✓ tls, ✓ authenticate, ✓ read_catalogue" in text
    assert "verified" in text
    page = staff_client.get(f"/admin/datasources/datasource/{source.pk}/change/").content.decode()
    assert "CN=localhost" in page and "days left" in page
