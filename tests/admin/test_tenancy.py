"""Tenancy in the admin, verb by verb: staff who are not superusers reach only their own
organizations' rows, and a staff member whose role is viewer reads but never writes.

Each refusal is checked on the database, not only on the status code: a refused write
leaves the row as it was.
"""
import pytest
from django.test import Client
from django.utils import timezone

from datasources.models import DataSource, StoredFile
from tests.admin.test_admin import form_data

pytestmark = pytest.mark.django_db

ADMIN = "/admin/datasources/datasource/"


def refused(response) -> bool:
    """403 or 404, or the admin's redirect to its index for a row outside the queryset ("doesn't exist.
    Perhaps it was deleted?"). A 302 elsewhere (the changelist, after a save or a delete) is success."""
    if response.status_code in (403, 404):
        return True
    return response.status_code == 302 and response["Location"] == "/admin/"


def staff(user) -> Client:
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def row(organization, name) -> DataSource:
    now = timezone.now()
    return DataSource.objects.create(organization=organization, name=name, type="other", description="as it was",
                                     created_at=now, updated_at=now)


@pytest.fixture
def ours(org):
    return row(org, "Ours")


@pytest.fixture
def theirs(other_org):
    return row(other_org, "Theirs")


def unchanged(source) -> bool:
    stored = DataSource.objects.filter(pk=source.pk).values("name", "description", "organization_id").first()
    return stored == {"name": source.name, "description": "as it was", "organization_id": source.organization_id}


# --- an admin of Acme who is staff, facing Globex's rows ---------------------------------------

def test_foreign_rows_are_neither_listed_nor_opened(alice, ours, theirs):
    client = staff(alice)
    html = client.get(ADMIN).content.decode()
    assert "Ours" in html and "Theirs" not in html
    assert refused(client.get(f"{ADMIN}{theirs.pk}/change/"))
    assert client.get(f"{ADMIN}{ours.pk}/change/").status_code == 200


def test_foreign_change_post_is_refused(alice, org, other_org, theirs):
    response = staff(alice).post(f"{ADMIN}{theirs.pk}/change/",
                                 form_data(other_org, name="Taken over", type="other", description="changed"))
    assert refused(response), (response.status_code, response.get("Location"))
    assert unchanged(theirs)


def test_foreign_change_post_cannot_move_a_row_into_our_organization(alice, org, theirs):
    response = staff(alice).post(f"{ADMIN}{theirs.pk}/change/",
                                 form_data(org, name="Taken over", type="other", description="changed"))
    assert refused(response), (response.status_code, response.get("Location"))
    assert unchanged(theirs)


def test_foreign_delete_is_refused(alice, theirs):
    client = staff(alice)
    assert refused(client.get(f"{ADMIN}{theirs.pk}/delete/"))
    assert refused(client.post(f"{ADMIN}{theirs.pk}/delete/", {"post": "yes"}))
    assert DataSource.objects.filter(pk=theirs.pk).exists()


def test_bulk_delete_touches_only_our_rows(alice, ours, theirs):
    response = staff(alice).post(ADMIN, {
        "action": "delete_selected", "_selected_action": [ours.pk, theirs.pk], "post": "yes",
    })
    assert response.status_code == 302 and response["Location"] == ADMIN  # the changelist: a success
    assert not DataSource.objects.filter(pk=ours.pk).exists()
    assert DataSource.objects.filter(pk=theirs.pk).exists()


def test_foreign_stored_file_cannot_be_deleted(alice, other_stored_file):
    client = staff(alice)
    url = f"/admin/datasources/storedfile/{other_stored_file.pk}/delete/"
    assert refused(client.post(url, {"post": "yes"}))
    assert StoredFile.objects.filter(pk=other_stored_file.pk).exists()


# --- a viewer of Acme who is staff: reads, never writes -----------------------------------------

def test_staff_viewer_reads_our_rows_without_their_secrets(charlie, ours):
    DataSource.objects.filter(pk=ours.pk).update(credentials={"password": "viewer-canary-5e1d"})
    client = staff(charlie)
    assert "Ours" in client.get(ADMIN).content.decode()
    page = client.get(f"{ADMIN}{ours.pk}/change/")
    assert page.status_code == 200
    assert "Ours" in page.content.decode() and "viewer-canary-5e1d" not in page.content.decode()


def test_staff_viewer_cannot_add(charlie, org):
    client = staff(charlie)
    assert client.get(f"{ADMIN}add/").status_code == 403
    assert client.post(f"{ADMIN}add/", form_data(org, name="By a viewer")).status_code == 403
    assert not DataSource.objects.filter(name="By a viewer").exists()


def test_staff_viewer_cannot_change(charlie, org, ours):
    response = staff(charlie).post(f"{ADMIN}{ours.pk}/change/",
                                   form_data(org, name="Changed by a viewer", type="other", description="changed"))
    assert response.status_code == 403
    assert unchanged(ours)


def test_staff_viewer_cannot_delete(charlie, ours):
    client = staff(charlie)
    assert client.post(f"{ADMIN}{ours.pk}/delete/", {"post": "yes"}).status_code == 403
    assert DataSource.objects.filter(pk=ours.pk).exists()


def test_staff_viewer_cannot_bulk_delete(charlie, ours):
    response = staff(charlie).post(ADMIN, {"action": "delete_selected", "_selected_action": [ours.pk], "post": "yes"},
                                   follow=True)
    # Without delete permission the action is not offered (a viewer still has the bundle export): Django
    # answers "No action selected." on the changelist, never the deletion's confirmation or success.
    page = response.content.decode()
    assert response.status_code == 200 and "No action selected" in page and "Successfully deleted" not in page
    assert DataSource.objects.filter(pk=ours.pk).exists()


# --- stored files: staff viewers see their organization's, never upload or delete ------------------

FILES = "/admin/datasources/storedfile/"


def test_staff_viewer_sees_our_files_but_cannot_upload(charlie, org, stored_file, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = staff(charlie)
    assert stored_file.filename in client.get(FILES).content.decode()
    assert client.get(f"{FILES}add/").status_code == 403
    response = client.post(f"{FILES}add/", {"organization": org.pk, "file": SimpleUploadedFile("v.csv", b"a\n1\n")})
    assert response.status_code == 403
    assert list(StoredFile.objects.values_list("pk", flat=True)) == [stored_file.pk]


def test_staff_viewer_cannot_delete_a_stored_file(charlie, stored_file):
    from django.core.files.storage import default_storage

    client = staff(charlie)
    assert client.post(f"{FILES}{stored_file.pk}/delete/", {"post": "yes"}).status_code == 403
    assert StoredFile.objects.filter(pk=stored_file.pk).exists() and default_storage.exists(stored_file.name)
