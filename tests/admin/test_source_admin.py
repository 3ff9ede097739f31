"""The source admin without a browser: the type-aware form, one round of errors, test and discover views."""
import pytest

from datasources.admin.typeinfo import form_layout
from datasources.models import DataSource, Discovery
from datasources.services.types import type_registry
from tests.admin.test_admin import CANARY, form_data, root, staff_client  # noqa: F401  (fixtures)
from tests.support.servers import pg_scratch_schema  # noqa: F401  (fixture)

ADD = "/admin/datasources/datasource/add/"
TEST_UNSAVED = "/admin/datasources/datasource/test-connection/"


def test_layout_follows_the_types_catalogue():
    catalogue = {entry["type"]: entry for entry in type_registry()}
    layout = form_layout()
    assert set(layout) == set(catalogue)
    assert layout["postgresql"]["default_port"] == 5432
    assert layout["postgresql"]["credentials"] == ["username", "password"]
    assert layout["bigquery"]["credentials"] == ["service_account_json"]
    assert layout["csv"]["fields"] == ["file_path"] and not layout["csv"]["ssh"]
    for name, entry in layout.items():
        accepted = {k["name"] for k in catalogue[name]["credential_keys"]}
        assert set(entry["credentials"]) <= accepted
        assert set(entry["fields"]) <= set(catalogue[name]["configuration_schema"]["properties"])


def test_add_page_carries_human_labels_and_the_layout(staff_client, org):
    html = staff_client.get(ADD).content.decode()
    assert "Service account JSON" in html and "AWS access key ID" in html
    assert "service_account_json:" not in html
    assert 'id="rg-type-layout"' in html and "source_form.js" in html
    assert "<title>Add data source | RiverGen admin</title>" in html


def test_change_page_fixes_the_type_and_shows_only_its_fields(staff_client, org):
    staff_client.post(ADD, form_data(org))
    source = DataSource.objects.get()
    response = staff_client.get(f"/admin/datasources/datasource/{source.pk}/change/")
    form = response.context["adminform"].form
    assert form.fields["type"].disabled
    assert "file_path" not in form.fields and "credential_service_account_json" not in form.fields
    assert "credential_ssh_private_key" in form.fields  # SSH applies to PostgreSQL (shown when ticked)
    html = response.content.decode()
    assert 'id="panel-connection"' in html and 'id="panel-discovery"' in html and 'id="panel-schema"' in html
    # A POST that tries to change the type keeps it.
    staff_client.post(f"/admin/datasources/datasource/{source.pk}/change/", form_data(org, type="mysql",
                                                                                    credential_password=""))
    source.refresh_from_db()
    assert source.type == "postgresql"


def test_one_save_shows_form_and_service_errors_together(staff_client, org):
    response = staff_client.post(ADD, form_data(org, port="not a number", database_name="", name=""))
    errors = response.context["adminform"].form.errors
    assert "port" in errors and "name" in errors
    assert "required for postgresql" in errors["database_name"][0]  # the service's, in the same round
    # Input the service itself rejects (a port out of range) and a rule (no host): both at once.
    response = staff_client.post(ADD, form_data(org, port="70000", host=""))
    errors = response.context["adminform"].form.errors
    assert "less than or equal to 65535" in errors["port"][0]
    assert "required for postgresql" in errors["host"][0]
    assert not DataSource.objects.exists()


def test_a_check_only_round_leaves_nothing_behind(staff_client, org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        staff_client.post(ADD, form_data(org, connection_timeout="x"))
    assert not DataSource.objects.exists() and callbacks == []


@pytest.mark.services
def test_test_button_on_add_page_tests_without_saving(staff_client, org, pg_scratch_schema):
    data = form_data(org, host="127.0.0.1", database_name="postgres", name="", credential_username="postgres")
    body = staff_client.post(TEST_UNSAVED, data).json()
    assert body["status"] == "succeeded" and body["server_version"]
    assert not DataSource.objects.exists()


def test_test_button_reports_invalid_input_per_field(staff_client, org):
    body = staff_client.post(TEST_UNSAVED, form_data(org, host="", port="70000")).json()
    assert body["status"] == "invalid"
    assert "port" in body["errors"]


def test_test_button_refuses_get_and_needs_csrf(client, root, org):
    client.force_login(root)
    assert client.get(TEST_UNSAVED).status_code == 405
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(root)
    assert strict.post(TEST_UNSAVED, form_data(org)).status_code == 403


@pytest.mark.services
def test_change_page_test_uses_stored_secrets_and_never_records(staff_client, org, pg_scratch_schema):
    staff_client.post(ADD, form_data(org, host="127.0.0.1", database_name="postgres",
                                     credential_username="postgres"))
    source = DataSource.objects.get()
    url = f"/admin/datasources/datasource/{source.pk}/test-connection/"
    body = staff_client.post(url, form_data(org, host="127.0.0.1", database_name="postgres",
                                            credential_username="postgres", credential_password="")).json()
    assert body["status"] == "succeeded"
    source.refresh_from_db()
    assert source.last_tested_at is None and source.status == "inactive"
    # A new host with the stored password left blank: the password is not sent there.
    body = staff_client.post(url, form_data(org, host="localhost", database_name="postgres",
                                            credential_username="postgres", credential_password="")).json()
    assert body["status"] == "invalid" and "re-enter password" in str(body["errors"])


@pytest.mark.services
def test_discover_and_test_saved_buttons(staff_client, org, pg_scratch_schema, django_capture_on_commit_callbacks):
    staff_client.post(ADD, form_data(org, host="127.0.0.1", database_name="postgres",
                                     schema_name=pg_scratch_schema, credential_username="postgres"))
    source = DataSource.objects.get()
    base = f"/admin/datasources/datasource/{source.pk}"
    assert staff_client.get(f"{base}/discover/").status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"{base}/discover/")
    assert response.status_code == 302
    assert Discovery.objects.get().status == "succeeded"  # eager in tests
    response = staff_client.post(f"{base}/test-saved/")
    source.refresh_from_db()
    assert source.status == "active" and source.last_tested_at
    html = staff_client.get(f"{base}/change/").content.decode()
    assert "orders" in html and "big_orders" in html
    html = staff_client.get(f"{base}/change/", {"table_q": "lines"}).content.decode()
    assert "lines" in html and "big_orders" not in html
    fragment = staff_client.get(f"{base}/panels/discovery/")
    assert fragment.status_code == 200 and "succeeded" in fragment.content.decode()
    assert staff_client.get(f"{base}/panels/nope/").status_code == 404


def test_schema_browser_paginates(staff_client, org):
    from datasources.models import SchemaTable

    staff_client.post(ADD, form_data(org))
    source = DataSource.objects.get()
    SchemaTable.objects.bulk_create(
        SchemaTable(data_source=source, schema_name="public", name=f"t{i:05d}") for i in range(10_000)
    )
    html = staff_client.get(f"/admin/datasources/datasource/{source.pk}/change/", {"schema_page": "200"}) \
        .content.decode()
    assert "t09999" in html and "t00000" not in html and "200 pages of 50" in html


def test_list_shows_badges_and_filters_by_tag(staff_client, org):
    staff_client.post(ADD, form_data(org, name="Tagged", tags="finance"))
    staff_client.post(ADD, form_data(org, name="Elsewhere", tags="ops"))
    html = staff_client.get("/admin/datasources/datasource/").content.decode()
    assert 'class="rg-badge"' in html and "PostgreSQL" in html
    html = staff_client.get("/admin/datasources/datasource/", {"tag": "finance"}).content.decode()
    assert "Tagged" in html and "Elsewhere" not in html


def test_landing_page_links_the_admin_and_docs(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "RiverGen" in html and "/admin/" in html and "/api/docs/" in html


@pytest.mark.parametrize("path", ["/admin/", "/admin/login/"])
def test_site_header_is_rivergen(client, root, path):
    client.force_login(root)
    assert "RiverGen" in client.get(path, follow=True).content.decode()


def test_schema_browser_searches_columns_and_survives_odd_pages(staff_client, org):
    from datasources.catalogue.store import catalogue_replace
    from datasources.connectors.base import DiscoveredColumn, DiscoveredTable

    staff_client.post(ADD, form_data(org))
    source = DataSource.objects.get()
    catalogue_replace(source=source, tables=[  # the store is the catalogue's only writer
        DiscoveredTable("public", f"t{i:03d}", columns=[DiscoveredColumn("customer_email", "text")] if i == 7 else [])
        for i in range(120)
    ])
    change = f"/admin/datasources/datasource/{source.pk}/change/"

    found = staff_client.get(change, {"table_q": "EMAIL"}).content.decode()
    past_the_end = staff_client.get(change, {"schema_page": "99"}).content.decode()
    odd = staff_client.get(change, {"schema_page": "\u00b2"})

    assert "t007" in found and "t008" not in found and "1 table(s) match" in found
    assert "t119" in past_the_end and "t000" not in past_the_end
    assert odd.status_code == 200 and "t000" in odd.content.decode()


def test_test_buttons_past_the_connection_test_bound_say_so_instead_of_failing(staff_client, org, settings):
    staff_client.post(ADD, form_data(org))
    source = DataSource.objects.get()
    settings.DATASOURCES_TESTS_PER_USER = 0  # every slot taken

    unsaved = staff_client.post(TEST_UNSAVED, form_data(org))
    saved = staff_client.post(f"/admin/datasources/datasource/{source.pk}/test-saved/", follow=True)

    assert unsaved.status_code == 429 and unsaved.headers["Retry-After"]
    assert "connection tests per user" in unsaved.json()["errors"]["__all__"][0]
    assert saved.status_code == 200 and "connection tests per user" in saved.content.decode()
    source.refresh_from_db()
    assert source.last_tested_at is None
