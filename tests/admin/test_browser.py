"""The admin in a real browser: add, test, save, discover and browse a PostgreSQL source; a CSV source
from an uploaded file; a wrong password's AUTH_FAILED inline; a file in use that cannot be deleted."""
import pytest

from datasources.models import DataSource, StoredFile
from tests.admin.browser import browser_page, log_in, organization, row_hidden, screenshot, staff_user  # noqa: F401
from tests.support.connections import postgres_reachable
from tests.support.password_postgres import password_postgres  # noqa: F401  (fixture)
from tests.support.servers import pg_scratch_schema  # noqa: F401  (fixture)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
CSV = b"id,total,region\n1,9.5,north\n2,12.0,south\n"


@pytest.fixture
def page(browser_page):
    org = organization()
    staff_user("root", org, superuser=True)
    log_in(browser_page, "root")
    browser_page.org = org
    return browser_page


def open_add_form(page, type_name="postgresql"):
    page.goto(page.base_url + "/admin/datasources/datasource/add/")
    page.select_option("#id_type", type_name)


def test_postgres_source_added_tested_saved_discovered_and_browsed(page, pg_scratch_schema):
    assert postgres_reachable()
    open_add_form(page)
    assert page.input_value("#id_port") == "5432"
    for hidden in ("file_path", "upload_file", "credential_service_account_json", "credential_aws_access_key_id",
                   "credential_api_key", "ssh_host", "credential_ssh_private_key"):
        assert row_hidden(page, hidden), hidden
    for shown in ("host", "port", "database_name", "connection_string", "credential_username", "credential_password"):
        assert not row_hidden(page, shown), shown
    assert page.inner_text(".field-credential_password label").startswith("Password")
    page.check("#id_use_ssh_tunnel")
    assert not row_hidden(page, "ssh_host") and not row_hidden(page, "credential_ssh_private_key")
    page.uncheck("#id_use_ssh_tunnel")
    assert row_hidden(page, "ssh_host")

    page.fill("#id_name", "Warehouse")
    page.fill("#id_host", "127.0.0.1")
    page.fill("#id_database_name", "postgres")
    page.fill("#id_schema_name", pg_scratch_schema)
    page.fill("#id_tags", "prod, finance")
    page.fill("#id_credential_username", "postgres")
    page.fill("#id_credential_password", "trust-auth-ignores-this")
    page.click("#rg-test-button")
    page.wait_for_selector("#rg-test-result.rg-succeeded")
    assert "Connection succeeded" in page.inner_text("#rg-test-result")
    assert not DataSource.objects.exists()  # testing never saves
    screenshot(page, "admin-add-source.png")

    page.click("input[name=_continue]")
    page.wait_for_selector("#panel-connection")
    source = DataSource.objects.get()
    assert source.port == 5432 and source.tags == ["prod", "finance"]
    assert page.is_disabled("#id_type")
    assert page.locator(".field-file_path").count() == 0  # the change page shows only the type's fields

    page.click("#rg-discover")
    page.wait_for_selector("#rg-discovery-status:text('succeeded')")
    assert "3 table(s)" in page.inner_text("#panel-discovery")
    schema = page.locator("#panel-schema")
    assert "orders" in schema.inner_text() and "big_orders" in schema.inner_text()
    page.click("#panel-schema summary:has(strong:text-is('orders'))")
    assert "customer" in schema.inner_text()
    page.click("#rg-test-saved")
    page.wait_for_selector(".messagelist .success")
    assert page.inner_text("#panel-connection .rg-badge") == "ACTIVE"
    page.click("#panel-schema summary:has(strong:text-is('orders'))")
    screenshot(page, "admin-source-change.png")

    page.fill("#rg-table-search", "lines")
    page.click(".rg-schema-search button")
    page.wait_for_selector("#panel-schema")
    text = page.inner_text("#panel-schema")
    assert "lines" in text and "big_orders" not in text

    page.goto(page.base_url + "/admin/datasources/datasource/")
    assert page.inner_text("#result_list .rg-badge") == "ACTIVE"
    assert page.locator("#result_list .rg-chip").all_inner_texts() == ["prod", "finance"]
    screenshot(page, "admin-source-list.png")


def test_wrong_password_shows_auth_failed_inline(page, password_postgres):
    wrong = "not-the-password-7d1e"
    open_add_form(page)
    page.fill("#id_host", "127.0.0.1")
    page.fill("#id_port", str(password_postgres.port))
    page.fill("#id_database_name", "postgres")
    page.fill("#id_credential_username", password_postgres.user)
    page.fill("#id_credential_password", wrong)
    with page.expect_response(lambda r: "test-connection" in r.url) as answer:
        page.click("#rg-test-button")
    page.wait_for_selector("#rg-test-result.rg-failed")
    assert "AUTH_FAILED" in page.inner_text("#rg-test-result")
    screenshot(page, "admin-test-failed.png")
    assert wrong not in answer.value.text()
    assert not DataSource.objects.exists()


def test_csv_source_from_a_file_uploaded_in_the_admin(page):
    open_add_form(page, "csv")
    assert row_hidden(page, "host") and row_hidden(page, "credential_password")
    assert not row_hidden(page, "file_path") and not row_hidden(page, "upload_file")
    assert page.input_value("#id_port") == ""
    page.fill("#id_name", "Sales")
    page.set_input_files("#id_upload_file", files=[{"name": "sales.csv", "mimeType": "text/csv", "buffer": CSV}])
    page.click("input[name=_continue]")
    page.wait_for_selector("#panel-schema")
    stored = StoredFile.objects.get()
    assert DataSource.objects.get().file_path == stored.name
    page.click("#rg-discover")
    page.wait_for_selector("#rg-discovery-status:text('succeeded')")
    page.click("#panel-schema summary >> nth=0")
    assert "region" in page.inner_text("#panel-schema")

    # The same file from the picker for a second source.
    open_add_form(page, "csv")
    page.fill("#id_name", "Sales again")
    page.select_option("#id_file_path", stored.name)
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    assert DataSource.objects.filter(file_path=stored.name).count() == 2


def test_deleting_a_file_in_use_is_refused(page):
    open_add_form(page, "csv")
    page.fill("#id_name", "Sales")
    page.set_input_files("#id_upload_file", files=[{"name": "sales.csv", "mimeType": "text/csv", "buffer": CSV}])
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    stored = StoredFile.objects.get()

    page.goto(page.base_url + f"/admin/datasources/storedfile/{stored.pk}/delete/")
    page.click("input[type=submit]")
    page.wait_for_selector(".messagelist .error")
    assert "The file is used by data source(s): Sales" in page.inner_text(".messagelist")

    page.goto(page.base_url + "/admin/datasources/storedfile/")
    page.check(f"input.action-select[value='{stored.pk}']")
    page.select_option("select[name=action]", "delete_unused_files")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist .error")
    assert "The file is used by data source(s): Sales" in page.inner_text(".messagelist")
    assert StoredFile.objects.filter(pk=stored.pk).exists()
    screenshot(page, "admin-files-refused.png")


def test_discovery_panel_follows_a_running_job(page):
    from django.utils import timezone

    from datasources.models import Discovery
    from datasources.services.sources import data_source_create

    user = page_user()
    source = data_source_create(actor=user, organization=page.org, data={
        "name": "Busy", "type": "postgresql", "host": "db.example.com", "port": 5432, "database_name": "x",
        "credentials": {},
    })
    job = Discovery.objects.create(data_source=source, status=Discovery.Status.RUNNING, started_at=timezone.now())
    page.goto(page.base_url + f"/admin/datasources/datasource/{source.pk}/change/")
    assert page.inner_text("#rg-discovery-status") == "RUNNING"
    assert page.is_disabled("#rg-discover")
    Discovery.objects.filter(pk=job.pk).update(status=Discovery.Status.SUCCEEDED, table_count=7, column_count=70,
                                               finished_at=timezone.now())
    page.wait_for_selector("#rg-discovery-status:text('succeeded')")  # no reload: the panel refreshed itself
    assert "7 table(s), 70 column(s)" in page.inner_text("#panel-discovery")


def page_user():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="root")


def test_without_javascript_the_full_form_still_works(page):
    context = page.context.browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    plain.base_url = page.base_url
    log_in(plain, "root")
    plain.goto(plain.base_url + "/admin/datasources/datasource/add/")
    for name in ("file_path", "credential_service_account_json", "ssh_host"):
        assert plain.is_visible(f".form-row.field-{name}"), name  # nothing hidden without the script
    assert not plain.is_visible("#rg-test")  # the test button needs the script, so it stays hidden
    plain.fill("#id_name", "Plain")
    plain.fill("#id_host", "db.example.com")
    plain.fill("#id_port", "5432")
    plain.fill("#id_database_name", "prod")
    plain.fill("#id_credential_username", "u")
    plain.click("input[name=_save]")
    plain.wait_for_selector(".messagelist .success")
    assert DataSource.objects.get(name="Plain").port == 5432
    context.close()


def fieldset_hidden(page, title) -> bool:
    return page.evaluate("""(title) => { const h = [...document.querySelectorAll('fieldset.module h2')]
        .find(e => e.textContent.trim() === title); const set = h && h.closest('fieldset');
        return !set || set.hidden || set.offsetParent === null; }""", title)


def required_marked(page, name) -> bool:
    return page.eval_on_selector(f".form-row.field-{name} label", "el => el.classList.contains('required')")


def test_the_add_page_marks_what_the_type_requires_and_hides_empty_sections(page):
    open_add_form(page, "postgresql")
    assert page.evaluate("() => document.querySelector('fieldset.module .form-row').classList.contains('field-type')")
    for name in ("host", "port", "database_name"):
        assert required_marked(page, name), name
    assert not required_marked(page, "schema_name") and not required_marked(page, "connection_string")
    assert not fieldset_hidden(page, "Credentials")

    page.select_option("#id_type", "csv")
    assert required_marked(page, "file_path") and not required_marked(page, "host")
    assert fieldset_hidden(page, "Credentials")  # a CSV file has no credentials: no empty section
    assert "keep the stored value" not in page.inner_text("#content-main")


def test_after_save_the_panels_wait_for_the_queued_first_test_and_discovery(page, settings):
    from django.utils import timezone

    from datasources.models import Discovery
    from datasources.services.sources import data_source_create

    source = data_source_create(actor=page_user(), organization=page.org, data={
        "name": "Fresh", "type": "postgresql", "host": "db.example.com", "port": 5432, "database_name": "x",
        "credentials": {},
    })
    settings.DATASOURCES_CHECK_NEW_SOURCES = True  # the create queued them; no worker has run yet
    page.goto(page.base_url + f"/admin/datasources/datasource/{source.pk}/change/")
    assert "a first test is queued" in page.inner_text("#panel-connection")
    assert "A first discovery is queued" in page.inner_text("#panel-discovery")
    screenshot(page, "admin-source-queued.png")

    # What the worker's job does: the test is recorded, then the discovery runs.
    DataSource.objects.filter(pk=source.pk).update(status="error", last_tested_at=timezone.now(),
                                                   failure_reason="HOST_UNREACHABLE: cannot be resolved")
    Discovery.objects.create(data_source=source, status=Discovery.Status.FAILED, error_code="HOST_UNREACHABLE",
                             error_message="cannot be resolved", finished_at=timezone.now())
    # No reload: the panels refreshed themselves.
    page.wait_for_function("() => !document.querySelector('#panel-connection').innerText.includes('queued')")
    assert page.inner_text("#panel-connection .rg-badge") == "ERROR"
    page.wait_for_selector("#rg-discovery-status:text('failed')")


@pytest.mark.parametrize("path", ["datasource", "webhookdelivery"])
def test_every_list_column_fits_at_1280_px_with_the_sidebar_open(page, path):
    from accounts.models import Workspace
    from datasources.models import Webhook, WebhookDelivery
    from datasources.services.sources import data_source_create

    workspace = Workspace.objects.create(organization=page.org, name="Analytics")
    for name in ("Orders warehouse", "Marketing MySQL"):
        data_source_create(actor=page_user(), organization=page.org, data={
            "name": name, "type": "mysql", "host": "127.0.0.1", "port": 3306, "database_name": "shop",
            "workspace_id": workspace.pk, "tags": ["production", "finance-team", "eu-west"], "credentials": {},
        })
    hook = Webhook.objects.create(organization=page.org, url="https://hooks.example.com/rivergen/events",
                                  events=["data_source.health_changed"], secret="s")
    import uuid

    WebhookDelivery.objects.create(webhook=hook, event_id=uuid.uuid4(), event_type="data_source.health_changed", payload={},
                                   status="pending", attempts=2, next_attempt_at=hook.created_at)
    page.goto(page.base_url + f"/admin/datasources/{path}/")
    assert page.is_visible("#nav-sidebar")
    layout = page.evaluate("""() => { const t = document.querySelector('#result_list'), c = t.closest('.results');
        return {right: t.getBoundingClientRect().right, filter: document.querySelector('#changelist-filter')
        .getBoundingClientRect().left, scroll: c.scrollWidth, width: c.clientWidth}; }""")
    assert layout["scroll"] <= layout["width"] and layout["right"] <= layout["filter"], layout
