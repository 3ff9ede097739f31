"""The audit log in the admin: read only, filtered, scoped; a source's page shows its last events."""
import pytest
from django.contrib.auth import get_user_model

from accounts.models import AuditEvent, Membership, Role
from tests.admin.test_admin import CANARY, form_data, root, staff_client  # noqa: F401  (fixtures)
from tests.audit.conftest import events

pytestmark = pytest.mark.django_db
EVENTS = "/admin/accounts/auditevent/"


@pytest.fixture
def created(staff_client, org):
    staff_client.post("/admin/datasources/datasource/add/", form_data(org))
    return events("data_source.created")[0]


def test_the_log_is_listed_filtered_and_shown_without_secrets(staff_client, created):
    listing = staff_client.get(EVENTS, {"action": "data_source.created"})
    assert listing.status_code == 200 and "data_source.created" in listing.content.decode()
    page = staff_client.get(f"{EVENTS}{created.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "credentials.password" in html and CANARY not in html


def test_nothing_can_be_added_changed_or_deleted(staff_client, created):
    assert staff_client.get(f"{EVENTS}add/").status_code == 403
    staff_client.post(f"{EVENTS}{created.pk}/change/", {"action": "data_source.deleted"})
    assert staff_client.post(f"{EVENTS}{created.pk}/delete/", {"post": "yes"}).status_code == 403
    staff_client.post(EVENTS, {"action": "delete_selected", "_selected_action": [created.pk]})
    created.refresh_from_db()
    assert created.action == "data_source.created" and AuditEvent.objects.count() == 1
    assert 'name="_save"' not in staff_client.get(f"{EVENTS}{created.pk}/change/").content.decode()


def test_staff_see_only_the_organizations_they_administer(client, created, org, other_org):
    staff = get_user_model().objects.create_user("staffer", password="pw", is_staff=True)
    Membership.objects.create(user=staff, organization=other_org, role=Role.ADMIN)
    client.force_login(staff)
    assert created.pk not in [e.pk for e in client.get(EVENTS).context["cl"].result_list]
    assert client.get(f"{EVENTS}{created.pk}/change/").status_code == 302  # not found: back to the list


def test_a_source_page_shows_its_last_events(staff_client, created, org):
    page = staff_client.get(f"/admin/datasources/datasource/{created.target_id}/change/").content.decode()
    assert 'id="panel-audit"' in page and "data_source.created" in page
