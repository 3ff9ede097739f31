"""Issue 22's admin items that show in the server's HTML: panel texts, the add page's texts, sections,
names, and the first check's hint (the browser tests cover what the script changes)."""
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Workspace
from datasources.catalogue.store import catalogue_replace
from datasources.connectors.base import DiscoveredColumn, DiscoveredTable
from datasources.models import DataSource, Discovery, HealthCheck, SchemaChange

pytestmark = pytest.mark.django_db
BASE = "/admin/datasources/datasource"


@pytest.fixture
def staff(client, alice):
    alice.is_staff = True
    alice.save()
    client.force_login(alice)
    return alice


def panel(client, source, key, **params):
    return client.get(f"{BASE}/{source.pk}/panels/{key}/", params).content.decode()


# --- 17. panel texts ------------------------------------------------------------------------------

def test_latency_without_a_successful_check_says_so(client, staff, source):
    HealthCheck.objects.create(data_source=source, checked_at=timezone.now(), status="failed",
                               error_code="TIMEOUT", message="", latency_ms=5000, trigger="manual")
    html = panel(client, source, "health-history")
    assert "no successful check in this window" in html
    assert "p50 — ms" not in html and "None ms" not in html


def test_nullability_and_key_changes_read_as_words(client, staff, source):
    discovery = Discovery.objects.create(data_source=source, status="succeeded")
    now = timezone.now()
    SchemaChange.objects.create(data_source=source, discovery=discovery, change_type="column_nullability_changed",
                                schema_name="public", table_name="orders", column_name="total", before=True,
                                after=False, breaking=False, detected_at=now)
    SchemaChange.objects.create(data_source=source, discovery=discovery, change_type="primary_key_changed",
                                schema_name="public", table_name="orders", before=["id"], after=["id", "line"],
                                breaking=False, detected_at=now)
    html = panel(client, source, "schema-changes")
    assert "<td>nullable</td><td>not null</td>" in html
    assert "<td>id</td><td>id, line</td>" in html
    assert "True" not in html and "False" not in html and "[&#x27;id&#x27;]" not in html


@pytest.fixture
def catalogue(source):
    tables = [
        DiscoveredTable("sales", "orders", columns=[DiscoveredColumn("id", "integer", comment="order number")],
                        comment="Every order, one row each"),
        DiscoveredTable("sales", "customers", columns=[DiscoveredColumn("id", "integer")]),
        DiscoveredTable("ops", "jobs", columns=[DiscoveredColumn("id", "integer")]),
    ]
    catalogue_replace(source=source, tables=tables)
    return source


def test_a_search_counts_the_schemas_of_the_matching_tables(client, staff, catalogue):
    html = " ".join(panel(client, catalogue, "schema", table_q="orders").split())
    assert "1 table(s) match in 1 schema(s)" in html
    assert "ops · " not in html
    everything = " ".join(panel(client, catalogue, "schema").split())
    assert "3 table(s) in 2 schema(s)" in everything


def test_table_and_column_comments_are_shown(client, staff, catalogue):
    html = panel(client, catalogue, "schema")
    assert "Every order, one row each" in html and "order number" in html


# --- 12. the first test and discovery queued after a save ---------------------------------------------

def test_a_new_source_says_its_first_test_and_discovery_are_queued(client, staff, source, settings):
    settings.DATASOURCES_CHECK_NEW_SOURCES = True  # as in `make run`: the create queued them
    connection, discovery = panel(client, source, "connection"), panel(client, source, "discovery")
    assert "a first test is queued; this panel refreshes itself" in connection and "data-refresh" in connection
    assert "A first discovery is queued" in discovery and "data-refresh" in discovery

    DataSource.objects.filter(pk=source.pk).update(created_at=timezone.now() - timedelta(hours=1))
    late = panel(client, source, "connection")
    assert "is a Celery worker running?" in late and "data-refresh" not in late

    DataSource.objects.filter(pk=source.pk).update(last_tested_at=timezone.now())
    tested = panel(client, source, "connection")
    assert "queued" not in tested and "data-refresh" not in tested


def test_without_queued_checks_nothing_is_promised(client, staff, source, settings):
    settings.DATASOURCES_CHECK_NEW_SOURCES = False
    assert "queued" not in panel(client, source, "connection")
    assert "No discovery has run yet." in panel(client, source, "discovery")


# --- 13, 14, 15. the add page, a CSV source's sections, the deliveries' name ------------------------------

def test_the_add_page_asks_the_type_first_and_promises_no_stored_value(client, staff, org, workspace):
    html = client.get(f"{BASE}/add/").content.decode()
    assert html.index('class="form-row field-type') < html.index('class="form-row field-organization')
    assert "keep the stored value" not in html
    assert f'<option value="{workspace.pk}" selected>' in html  # the organization's only workspace


def test_the_change_page_says_blank_keeps_the_stored_secret(client, staff, source):
    assert "Leave blank to keep the stored value." in client.get(f"{BASE}/{source.pk}/change/").content.decode()


def test_two_workspaces_leave_the_choice_open(client, staff, org, workspace):
    Workspace.objects.create(organization=org, name="Second")
    choices = client.get(f"{BASE}/add/").content.decode().split('id="id_workspace"')[1].split("</select>")[0]
    assert '<option value="" selected>' in choices


def test_a_csv_source_has_no_credentials_section(client, staff, alice, org, stored_file):
    from datasources.services.sources import data_source_create

    csv = data_source_create(actor=alice, data={"name": "Sales", "type": "csv", "file_path": stored_file.name,
                                                "credentials": {}})
    html = client.get(f"{BASE}/{csv.pk}/change/").content.decode()
    assert ">Credentials<" not in html and "Secrets set" not in html


def test_webhook_deliveries_are_spelled_right(client, staff):
    html = client.get("/admin/").content.decode()
    assert "Webhook deliveries" in html and "deliverys" not in html
