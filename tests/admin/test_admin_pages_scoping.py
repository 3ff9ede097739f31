"""Staff who are not superusers test, discover, read panels and upload only in their own organizations."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasources.models import DataSource, Discovery, StoredFile
from datasources.services.sources import data_source_create
from tests.admin.test_admin import form_data

BASE = "/admin/datasources/datasource"


def staff(user):
    user.is_staff = True
    user.save()
    return user


def make_source(actor, org, name):
    return data_source_create(actor=actor, organization=org, data={
        "name": name, "type": "postgresql", "host": "db.example.com", "port": 5432,
        "database_name": "prod", "credentials": {"username": "u", "password": "p"},
    })


@pytest.fixture
def theirs(oscar, other_org):
    return make_source(oscar, other_org, "Theirs")


@pytest.fixture
def ours(alice, org):
    return make_source(alice, org, "Ours")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(staff(alice))
    return client


@pytest.mark.parametrize("suffix,method", [
    ("change/", "get"), ("panels/schema/", "get"), ("panels/connection/", "get"),
    ("test-connection/", "post"), ("test-saved/", "post"), ("discover/", "post"),
])
def test_another_organizations_source_is_out_of_reach(alice_client, theirs, org, suffix, method):
    response = getattr(alice_client, method)(f"{BASE}/{theirs.pk}/{suffix}", form_data(org) if method == "post" else None)
    # The change page redirects to the admin index (not the changelist a save returns to), the rest 404.
    assert response.status_code == 404 or (response.status_code == 302 and response["Location"] == "/admin/")
    assert not Discovery.objects.exists()
    theirs.refresh_from_db()
    assert theirs.last_tested_at is None


def test_unsaved_test_in_another_organization_is_refused(alice_client, other_org):
    response = alice_client.post(f"{BASE}/test-connection/", form_data(other_org))
    assert response.status_code == 400 and "organization" in response.json()["errors"]


def test_a_viewer_sees_but_may_not_test_or_discover(client, charlie, org, ours):
    client.force_login(staff(charlie))
    html = client.get(f"{BASE}/{ours.pk}/change/").content.decode()
    assert "Ours" in html
    assert 'id="rg-discover"' not in html and 'id="rg-test-saved"' not in html and 'id="rg-test-button"' not in html
    assert client.get(f"{BASE}/{ours.pk}/panels/discovery/").status_code == 200
    for suffix in ("test-connection/", "test-saved/", "discover/"):
        assert client.post(f"{BASE}/{ours.pk}/{suffix}", form_data(org)).status_code == 403, suffix
    assert client.post(f"{BASE}/test-connection/", form_data(org)).status_code == 403
    assert not Discovery.objects.exists()


def test_uploads_go_only_to_own_organizations(alice_client, org, other_org, other_stored_file):
    response = alice_client.post("/admin/datasources/storedfile/add/", {
        "organization": other_org.pk, "file": SimpleUploadedFile("x.csv", b"a\n1\n"),
    })
    assert "organization" in response.context["adminform"].form.errors
    assert StoredFile.objects.filter(organization=other_org).count() == 1
    assert StoredFile.objects.filter(organization=org).count() == 0
    listing = alice_client.get("/admin/datasources/storedfile/").content.decode()
    assert other_stored_file.name not in listing
    picker = alice_client.get(f"{BASE}/add/").content.decode()
    assert other_stored_file.name not in picker


def test_bulk_delete_cannot_reach_another_organizations_file(alice_client, other_stored_file):
    alice_client.post("/admin/datasources/storedfile/", {
        "action": "delete_unused_files", "_selected_action": [other_stored_file.pk],
    })
    assert StoredFile.objects.filter(pk=other_stored_file.pk).exists()


def test_a_source_of_another_organization_cannot_take_its_file(alice_client, org, other_stored_file):
    response = alice_client.post(f"{BASE}/add/", form_data(org, type="csv", name="Sneaky", host="", port="",
                                                           database_name="", file_path=other_stored_file.name))
    assert "file_path" in response.context["adminform"].form.errors
    assert not DataSource.objects.filter(name="Sneaky").exists()


def test_list_filters_name_no_other_organization(alice_client, ours, theirs, other_workspace, other_stored_file):
    for url in (f"{BASE}/", "/admin/datasources/storedfile/"):
        html = alice_client.get(url).content.decode()
        assert "Globex" not in html and "Theirs" not in html, url


def test_non_staff_members_reach_none_of_the_admin_views(client, bob, org, ours):
    client.force_login(bob)  # an editor of Acme, but not staff
    for url in (f"{BASE}/test-connection/", f"{BASE}/{ours.pk}/test-connection/", f"{BASE}/{ours.pk}/discover/",
                f"{BASE}/{ours.pk}/test-saved/"):
        response = client.post(url, form_data(org))
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url
    assert "/admin/login/" in client.get(f"{BASE}/{ours.pk}/panels/schema/")["Location"]
    assert not Discovery.objects.exists()
