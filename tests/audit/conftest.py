import pytest

from accounts.models import AuditEvent


def events(action=None) -> list:
    found = AuditEvent.objects.order_by("id")
    return list(found.filter(action=action) if action else found)


def only_event(action):
    """The one event of ``action`` (fails when there are none or several)."""
    found = events(action)
    assert len(found) == 1, [(e.action, e.via) for e in events()]
    return found[0]


def assert_actor(event, user, via):
    assert (event.actor_type, event.actor_id, event.actor_label, event.via) == ("user", user.pk, user.username, via)


@pytest.fixture
def other_source(alice, workspace):
    """A source of type "other": testing it fails at once, without dialling anywhere."""
    from datasources.services.sources import data_source_create

    return data_source_create(actor=alice, data={
        "workspace_id": workspace.pk, "name": "Other source", "type": "other", "credentials": {},
        "schema_auto_refresh": False,
    })
