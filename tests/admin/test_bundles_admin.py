"""The admin's sources as code: a credential can be a secret reference; the changelist exports the
selected sources as a bundle; the apply page shows the plan before it applies."""
import pytest
import yaml

from datasources.models import DataSource
from tests.admin.test_admin import CANARY, form_data, root, staff_client  # noqa: F401  (fixtures)

LIST = "/admin/datasources/datasource/"
APPLY = LIST + "apply-bundle/"


@pytest.fixture(autouse=True)
def env_provider(settings):
    settings.SECRET_REFERENCE_PROVIDERS = ["env"]
    settings.SECRET_REFERENCE_ENV_PREFIX = "RGTEST_"


def test_a_credential_can_be_a_reference_and_the_change_page_names_it(staff_client, org):
    reference = f"env:RGTEST_ORG_{org.pk}_PW"
    response = staff_client.post(LIST + "add/", form_data(org, credential_password=reference,
                                                          credential_password_is_ref="on"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    source = DataSource.objects.get()
    assert source.credentials["password"] == {"secret_ref": reference}

    page = staff_client.get(f"{LIST}{source.pk}/change/")
    form = page.context["adminform"].form
    assert form.initial["credential_password_is_ref"] is True
    assert reference in form.fields["credential_password"].help_text and reference in page.content.decode()

    refused = staff_client.post(LIST + "add/", form_data(org, name="Other", credential_password="env:SECRET_KEY",
                                                         credential_password_is_ref="on"))
    assert refused.status_code == 200 and "ORG_" in refused.content.decode()


def test_the_changelist_exports_the_selected_sources(staff_client, org):
    staff_client.post(LIST + "add/", form_data(org))
    staff_client.post(LIST + "add/", form_data(org, name="Second"))
    first = DataSource.objects.get(name="Warehouse")

    response = staff_client.post(LIST, {"action": "export_bundle", "_selected_action": [first.pk]})

    bundle = yaml.safe_load(response.content)
    assert [e["name"] for e in bundle["data_sources"]] == ["Warehouse"]
    assert bundle["data_sources"][0]["credentials_set"] == ["password"] and CANARY not in response.content.decode()


def test_the_apply_page_plans_then_applies(staff_client, org):
    staff_client.post(LIST + "add/", form_data(org))
    text = staff_client.post(LIST, {"action": "export_bundle",
                                    "_selected_action": [DataSource.objects.get().pk]}).content.decode()
    edited = text.replace("description: null", "description: from the bundle")
    assert "Apply a bundle" in staff_client.get(LIST).content.decode()

    planned = staff_client.post(APPLY, {"organization": org.pk, "bundle": edited, "plan": "1"})

    html = planned.content.decode()
    assert 'id="bundle-plan"' in html and "from the bundle" in html and CANARY not in html
    assert DataSource.objects.get().description is None
    applied = staff_client.post(APPLY, {"organization": org.pk, "bundle": edited, "apply": "1"})
    assert applied.status_code == 302 and DataSource.objects.get().description == "from the bundle"

    broken = staff_client.post(APPLY, {"organization": org.pk, "plan": "1",
                                       "bundle": edited.replace("port: 5432", "port: 0")})
    assert "data_sources[0].port" in broken.content.decode()
