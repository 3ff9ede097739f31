"""A source's fields are declared once, in ``DataSourceInputSerializer``; everything else follows it.

Each test fails when an input field is missing from one of the places that must offer it: the
admin form (and its fieldsets), ``manage.py create_datasource``, the OpenAPI create bodies and
the read shape.
"""
import pytest
from django.core.management import load_command_class

from datasources.admin.forms import DataSourceAdminForm
from datasources.admin.sources import DataSourceAdmin
from datasources.api.serializers import DataSourceDetailSerializer
from datasources.connectors import CONNECTORS
from datasources.models import DataSource
from datasources.services.inputs import DataSourceInputSerializer
from datasources.services.types import request_schema

INPUT_FIELDS = DataSourceInputSerializer._declared_fields
# Where an input field shows on the form when not under its own name.
FORM_NAMES = {"workspace_id": "workspace", "credentials": "credential_username"}


def _form_name(field):
    return FORM_NAMES.get(field, field)


@pytest.mark.django_db
def test_every_input_field_is_on_the_admin_form_and_in_its_fieldsets():
    form = DataSourceAdminForm()
    admin = DataSourceAdmin(DataSource, None)
    in_fieldsets = {name for _, options in admin.get_fieldsets(None) for name in options["fields"]}
    missing_from_form = [f for f in INPUT_FIELDS if _form_name(f) not in form.fields]
    missing_from_page = [f for f in INPUT_FIELDS if _form_name(f) not in in_fieldsets]
    assert (missing_from_form, missing_from_page) == ([], [])


@pytest.mark.django_db
def test_the_admin_form_offers_the_health_check_interval_with_its_rule():
    field = DataSourceAdminForm().fields["health_check_interval"]
    assert "0 turns them off" in field.help_text and not field.required


def test_every_input_field_has_a_cli_flag():
    parser = load_command_class("datasources", "create_datasource").create_parser("manage.py", "create_datasource")
    destinations = {action.dest for action in parser._actions}
    # Secrets never travel in argv: a write-only field comes with --file (credentials also with
    # --credentials-file and --password-stdin).
    missing = [f for f, field in INPUT_FIELDS.items() if not field.write_only and f not in destinations]
    assert missing == []
    assert {"file", "credentials_file"} <= destinations


def test_every_input_field_is_in_some_openapi_create_body():
    documented = set()
    for connector in CONNECTORS.values():
        documented.update(request_schema(connector)["properties"])
    assert [f for f in INPUT_FIELDS if f not in documented] == []


def test_every_readable_input_field_is_in_the_read_shape():
    shown = DataSourceDetailSerializer.Meta.fields
    assert [f for f, field in INPUT_FIELDS.items() if not field.write_only and f not in shown] == []
