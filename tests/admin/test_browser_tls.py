"""The admin's TLS section in a real browser, against a real TLS PostgreSQL: the mode picker follows
the type, a CA is pasted and a client certificate read from a chosen file, the test's steps show as
a checklist with the TLS summary, and the change page shows the server certificate."""
import os
from pathlib import Path

import pytest

from datasources.models import DataSource
from tests.admin.browser import (  # noqa: F401
    browser_page,
    log_in,
    organization,
    row_hidden,
    screenshot,
    staff_user,
)
from tests.support.certificates import Authority, shared_authority

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
STEPS = ["✓ resolve", "✓ connect", "✓ tls", "✓ authenticate", "✓ read_catalogue"]


@pytest.fixture
def page(browser_page):  # noqa: F811  (the fixture above)
    org = organization()
    staff_user("root", org, superuser=True)
    log_in(browser_page, "root")
    return browser_page


def part_screenshot(locator, filename):
    """One part of the page, saved (like ``screenshot``) only when SCREENSHOT_DIR is set."""
    if os.environ.get("SCREENSHOT_DIR"):
        locator.screenshot(path=str(Path(os.environ["SCREENSHOT_DIR"]) / filename))


def modes(page):
    return page.eval_on_selector_all("#id_tls_mode option", "options => options.map(o => o.textContent)")


def steps(page, box):
    return [text.split(" ")[0] + " " + text.split(" ")[1] for text in page.locator(f"{box} li.rg-step").all_inner_texts()]


def test_tls_source_with_a_client_certificate_added_tested_and_shown(page, tls_postgres, settings):
    page.goto(page.base_url + "/admin/datasources/datasource/add/")
    page.select_option("#id_type", "redis")
    assert modes(page) == ["disable (default)", "require", "verify-ca", "verify-full"]
    assert page.input_value("#id_tls_mode") == "disable"
    page.select_option("#id_type", "csv")
    assert page.is_hidden("fieldset.rg-tls")
    page.select_option("#id_type", "postgresql")
    assert modes(page) == ["disable", "prefer (default)", "require", "verify-ca", "verify-full"]
    assert page.input_value("#id_tls_mode") == "prefer"
    assert not row_hidden(page, "credential_tls_client_key")

    client = shared_authority().issue("certuser", client=True)
    page.fill("#id_name", "Warehouse over TLS")
    page.fill("#id_host", "localhost")
    page.fill("#id_port", str(tls_postgres.port))
    page.fill("#id_database_name", "postgres")
    page.fill("#id_credential_username", "certuser")
    page.select_option("#id_tls_mode", "verify-full")
    page.fill("#id_tls_ca_certificate", shared_authority().pem)  # pasted
    page.set_input_files("#id_tls_client_certificate_file", files=[
        {"name": "certuser.crt", "mimeType": "application/x-x509-ca-cert", "buffer": client.cert_pem.encode()}])
    page.wait_for_selector(".rg-upload-note:text('Read certuser.crt')")
    assert page.input_value("#id_tls_client_certificate") == client.cert_pem
    page.fill("#id_credential_tls_client_key", client.key_pem)
    page.click("#rg-test-button")
    page.wait_for_selector("#rg-test-result.rg-succeeded")
    assert steps(page, "#rg-test-result") == STEPS
    summary = page.inner_text("#rg-test-result .rg-tls-summary")
    assert "encrypted, verified" in summary and "CN=localhost" in summary and "days left" in summary
    screenshot(page, "admin-tls-add-tested.png")
    part_screenshot(page.locator("fieldset.rg-tls"), "admin-tls-section.png")
    part_screenshot(page.locator("#rg-test"), "admin-tls-test-result.png")

    page.click("input[name=_continue]")
    page.wait_for_selector("#panel-connection")
    source = DataSource.objects.get()
    assert source.tls["mode"] == "verify-full" and source.tls["client_certificate"] == client.cert_pem
    assert "PRIVATE KEY" not in page.content()
    page.click("#rg-test-saved")
    page.wait_for_selector(".messagelist .success")
    assert steps(page, ".messagelist") == STEPS
    certificate = page.inner_text(".field-server_certificate")
    assert "CN=localhost" in certificate and "CN=RiverGen Test CA" in certificate and "days left" in certificate
    assert "PRIVATE KEY" not in page.content()
    screenshot(page, "admin-tls-change-tested.png")
    part_screenshot(page.locator(".messagelist"), "admin-tls-saved-test-message.png")
    part_screenshot(page.locator(".field-server_certificate"), "admin-tls-server-certificate.png")
    assert page.locator("table.rg-cert-expiring").count() == 0
    settings.TLS_CERTIFICATE_WARNING_DAYS = 40  # the test CA's server certificate lasts 30 days
    page.reload()
    assert "renew it soon" in page.inner_text(".field-server_certificate table.rg-cert-expiring")
    part_screenshot(page.locator(".field-server_certificate"), "admin-tls-server-certificate-expiring.png")


def test_a_failed_handshake_shows_which_step_failed(page, tls_postgres):
    page.goto(page.base_url + "/admin/datasources/datasource/add/")
    page.select_option("#id_type", "postgresql")
    page.fill("#id_host", "localhost")
    page.fill("#id_port", str(tls_postgres.port))
    page.fill("#id_database_name", "postgres")
    page.fill("#id_credential_username", "postgres")
    page.select_option("#id_tls_mode", "verify-full")
    page.fill("#id_tls_ca_certificate", Authority("Somebody Else's CA").pem)
    page.click("#rg-test-button")
    page.wait_for_selector("#rg-test-result.rg-failed")
    assert steps(page, "#rg-test-result") == ["✓ resolve", "✓ connect", "✗ tls", "– authenticate",
                                             "– read_catalogue"]
    assert "unknown CA" in page.inner_text("#rg-test-result")
    part_screenshot(page.locator("#rg-test"), "admin-tls-test-failed.png")

    page.fill("#id_name", "Broken PEM")
    page.fill("#id_tls_ca_certificate", "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    page.click("input[name=_save]")
    page.wait_for_selector(".errornote")
    assert "CA certificate: Must be PEM certificate(s)" in page.inner_text(".field-tls .errorlist")
    assert page.locator(".rg-tls-part.rg-invalid textarea").get_attribute("name") == "tls_ca_certificate"
    assert page.input_value("#id_tls_mode") == "verify-full"  # the page keeps what was chosen
    assert not DataSource.objects.exists()
    part_screenshot(page.locator("fieldset.rg-tls"), "admin-tls-bad-pem.png")
