"""The admin's TLS section: a mode picker, the CA and client certificate pasted or uploaded, the
client key as a write-only secret, all through the same service as the API; the server
certificate on the change page; the test's steps as a checklist; never the private key."""
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasources.models import DataSource
from datasources.security.tls import MAX_PEM_BYTES, UTC_FORMAT
from tests.admin.test_admin import form_data, root, staff_client  # noqa: F401  (fixtures)
from tests.support.certificates import shared_authority

NOW = datetime.now(UTC)
ADD = "/admin/datasources/datasource/add/"


def change_url(source):
    return f"/admin/datasources/datasource/{source.pk}/change/"


def form_errors(response) -> dict:
    return {field: list(errors) for field, errors in response.context["adminform"].form.errors.items()}


@pytest.fixture
def client_pair():
    return shared_authority().issue("dbuser", client=True)


def test_mode_pasted_ca_and_uploaded_client_certificate_save_through_the_service(staff_client, org, client_pair):  # noqa: F811
    response = staff_client.post(ADD, form_data(
        org, tls_mode="verify-full", tls_ca_certificate=shared_authority().pem,
        tls_client_certificate_file=SimpleUploadedFile("client.crt", client_pair.cert_pem.encode()),
        credential_tls_client_key=client_pair.key_pem))
    assert response.status_code == 302, form_errors(response)
    source = DataSource.objects.get()
    assert source.tls == {"mode": "verify-full", "ca_certificate": shared_authority().pem,
                          "client_certificate": client_pair.cert_pem}
    assert source.credentials["tls_client_key"] == client_pair.key_pem
    page = staff_client.get(change_url(source)).content.decode()
    assert 'name="tls_mode"' in page and '<option value="verify-full" selected>verify-full</option>' in page
    assert "BEGIN CERTIFICATE" in page  # the certificates are public: shown to edit
    assert "PRIVATE KEY" not in page and client_pair.key_pem.splitlines()[1] not in page


def test_an_uploaded_ca_fills_the_field_and_wins_over_the_pasted_text(staff_client, org):  # noqa: F811
    upload = SimpleUploadedFile("ca.pem", shared_authority().pem.encode(), content_type="application/x-pem-file")
    response = staff_client.post(ADD, form_data(org, tls_mode="verify-ca", tls_ca_certificate="typed over",
                                                tls_ca_certificate_file=upload))
    assert response.status_code == 302, form_errors(response)
    assert DataSource.objects.get().tls["ca_certificate"] == shared_authority().pem


def test_pasted_lines_ending_in_crlf_are_stored_as_the_api_would_get_them(staff_client, org):  # noqa: F811
    pasted = shared_authority().pem.replace("\n", "\r\n")  # what a browser sends from a textarea
    assert staff_client.post(ADD, form_data(org, tls_mode="verify-ca", tls_ca_certificate=pasted)).status_code == 302
    assert DataSource.objects.get().tls["ca_certificate"] == shared_authority().pem


def test_a_bad_pem_is_an_error_on_the_tls_field(staff_client, org):  # noqa: F811
    response = staff_client.post(ADD, form_data(org, tls_mode="verify-full", tls_ca_certificate="not a certificate"))
    assert response.status_code == 200 and not DataSource.objects.exists()
    assert form_errors(response)["tls"] == ["CA certificate: Must be PEM certificate(s) (-----BEGIN CERTIFICATE-----)."]


def test_a_bad_or_too_long_upload_is_an_error_on_the_tls_field(staff_client, org):  # noqa: F811
    der = SimpleUploadedFile("ca.crt", b"\x30\x82\x01\x0a\xff\xfe binary DER")
    response = staff_client.post(ADD, form_data(org, tls_mode="verify-ca", tls_ca_certificate_file=der))
    assert form_errors(response)["tls"] == ["CA certificate: Must be PEM certificate(s) (-----BEGIN CERTIFICATE-----)."]
    huge = SimpleUploadedFile("bundle.pem", shared_authority().pem.encode() * (MAX_PEM_BYTES // 500))
    response = staff_client.post(ADD, form_data(org, tls_mode="verify-ca", tls_ca_certificate_file=huge))
    assert form_errors(response)["tls"] == ["CA certificate: Must be at most 64 KiB."]
    crlf = shared_authority().pem.replace("\n", "\r\n").encode()  # halved by CRLF → LF: still too long
    huge = SimpleUploadedFile("bundle.pem", crlf * (2 * MAX_PEM_BYTES // len(crlf) + 1))
    response = staff_client.post(ADD, form_data(org, tls_mode="verify-ca", tls_ca_certificate_file=huge))
    assert form_errors(response)["tls"] == ["CA certificate: Must be at most 64 KiB."]
    assert not DataSource.objects.exists()


def test_a_client_certificate_without_its_key_is_an_error_on_the_key(staff_client, org, client_pair):  # noqa: F811
    response = staff_client.post(ADD, form_data(org, tls_mode="require", tls_client_certificate=client_pair.cert_pem))
    assert form_errors(response)["credential_tls_client_key"] == ["A client certificate needs its private key (PEM)."]
    assert not DataSource.objects.exists()


def test_a_key_without_its_certificate_is_an_error_on_the_certificate(staff_client, org, client_pair):  # noqa: F811
    response = staff_client.post(ADD, form_data(org, credential_tls_client_key=client_pair.key_pem))
    assert form_errors(response)["tls"] == [
        "Client certificate: credentials.tls_client_key is set: give the client certificate it belongs to."]
    assert client_pair.key_pem.splitlines()[1] not in response.content.decode()  # not echoed back
    assert not DataSource.objects.exists()


def test_another_types_key_is_refused_and_a_wrong_key_never_shown(staff_client, org, client_pair):  # noqa: F811
    other = shared_authority().issue("someone-else", client=True)
    response = staff_client.post(ADD, form_data(org, tls_mode="require", tls_client_certificate=client_pair.cert_pem,
                                                credential_tls_client_key=other.key_pem))
    assert form_errors(response)["credential_tls_client_key"] == [
        "This private key does not belong to tls.client_certificate."]
    assert "PRIVATE KEY" not in response.content.decode()


def test_the_default_mode_without_certificates_stays_null(staff_client, org):  # noqa: F811
    assert staff_client.post(ADD, form_data(org, tls_mode="prefer")).status_code == 302
    source = DataSource.objects.get()
    assert source.tls is None
    page = staff_client.get(change_url(source)).content.decode()
    assert '<option value="prefer" selected>prefer (default)</option>' in page


def test_a_blank_key_keeps_it_and_removing_the_certificate_removes_it(staff_client, org, client_pair):  # noqa: F811
    data = form_data(org, tls_mode="require", tls_client_certificate=client_pair.cert_pem,
                     credential_tls_client_key=client_pair.key_pem)
    assert staff_client.post(ADD, data).status_code == 302
    source = DataSource.objects.get()
    kept = staff_client.post(change_url(source), {**data, "credential_tls_client_key": "", "description": "kept"})
    assert kept.status_code == 302, form_errors(kept)
    source.refresh_from_db()
    assert source.description == "kept" and source.credentials["tls_client_key"] == client_pair.key_pem
    replacement = shared_authority().issue("dbuser2", client=True)
    replaced = staff_client.post(change_url(source), {**data, "tls_client_certificate": replacement.cert_pem,
                                                      "credential_tls_client_key": replacement.key_pem})
    assert replaced.status_code == 302, form_errors(replaced)
    source.refresh_from_db()
    assert source.credentials["tls_client_key"] == replacement.key_pem
    removed = staff_client.post(change_url(source), {**data, "tls_client_certificate": "",
                                                     "credential_tls_client_key": ""})
    assert removed.status_code == 302, form_errors(removed)
    source.refresh_from_db()
    assert source.tls["client_certificate"] is None and "tls_client_key" not in source.credentials


def test_the_mode_choices_follow_the_type(staff_client, org):  # noqa: F811
    add_page = staff_client.get(ADD)
    assert add_page.context["type_layout"]["redis"]["tls_modes"] == ["disable", "require", "verify-ca", "verify-full"]
    assert "<option value=\"\" selected>the type&#x27;s default</option>" in add_page.content.decode()
    response = staff_client.post(ADD, form_data(org, type="redis", port="6379", database_name="0",
                                                credential_username="", tls_mode="prefer"))
    expected = "Mode: redis sources accept the mode(s): disable, require, verify-ca, verify-full."
    assert form_errors(response)["tls"] == [expected]
    staff_client.post(ADD, form_data(org, type="redis", port="6379", database_name="0", credential_username="",
                                      tls_mode="verify-full"))
    source = DataSource.objects.get()
    page = staff_client.get(change_url(source)).content.decode()
    modes = page[page.index('name="tls_mode"'):page.index("</select>", page.index('name="tls_mode"'))]
    assert 'value="prefer"' not in modes and 'value=""' not in modes
    assert '<option value="disable">disable (default)</option>' in modes


def test_a_file_source_has_no_tls_section(staff_client, org):  # noqa: F811
    source = DataSource.objects.create(organization=org, name="sheet", type="csv", file_path="f/sheet.csv",
                                       created_at=NOW, updated_at=NOW)
    page = staff_client.get(change_url(source)).content.decode()
    assert 'name="tls_mode"' not in page and "Server certificate" not in page


def test_the_change_page_warns_of_an_expiring_server_certificate(staff_client, org, settings):  # noqa: F811
    settings.TLS_CERTIFICATE_WARNING_DAYS = 21
    source = DataSource.objects.create(organization=org, name="db", type="postgresql", host="db.example.com",
                                       created_at=NOW, updated_at=NOW)
    not_after = (datetime.now(UTC) + timedelta(days=10, hours=1)).strftime(UTC_FORMAT)
    source.tls_server_certificate = {"subject": "CN=db.example.com", "issuer": "CN=Acme CA", "not_after": not_after,
                                     "days_left": 40, "sha256": "ab" * 32}
    source.save()
    page = staff_client.get(change_url(source)).content.decode()
    assert "CN=db.example.com" in page and "CN=Acme CA" in page and "ab" * 32 in page
    assert 'class="rg-cert rg-cert-expiring"' in page and "10 days left" in page
    settings.TLS_CERTIFICATE_WARNING_DAYS = 5
    page = staff_client.get(change_url(source)).content.decode()
    assert 'class="rg-cert"' in page and "rg-cert-expiring" not in page


@pytest.mark.services
def test_the_saved_test_shows_the_steps_checklist(staff_client, org, tls_postgres):  # noqa: F811
    staff_client.post(ADD, form_data(
        org, host="localhost", port=str(tls_postgres.port), database_name="postgres", credential_username="postgres",
        credential_password="", schema_auto_refresh="", tls_mode="verify-full",
        tls_ca_certificate=shared_authority().pem))
    source = DataSource.objects.get()
    response = staff_client.post(f"/admin/datasources/datasource/{source.pk}/test-saved/", follow=True)
    text = response.content.decode()
    for step in ("resolve", "connect", "tls", "authenticate", "read_catalogue"):
        assert f'<li class="rg-step rg-step-passed">✓ {step}' in text
    assert "encrypted, verified" in text and "CN=localhost" in text
    page = staff_client.get(change_url(source)).content.decode()
    assert "CN=localhost" in page and "days left" in page


@pytest.mark.services
def test_the_unsaved_test_answers_steps_and_tls(staff_client, org, tls_postgres):  # noqa: F811
    response = staff_client.post("/admin/datasources/datasource/test-connection/", form_data(
        org, host="localhost", port=str(tls_postgres.port), database_name="postgres", credential_username="postgres",
        credential_password="", tls_mode="verify-ca",
        tls_ca_certificate_file=SimpleUploadedFile("ca.pem", shared_authority().pem.encode())))
    result = response.json()
    assert result["status"] == "succeeded", result
    assert [s["name"] for s in result["steps"]] == ["resolve", "connect", "tls", "authenticate", "read_catalogue"]
    assert result["tls"]["encrypted"] and result["tls"]["verified"]
