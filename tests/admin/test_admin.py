import pytest
from django.contrib.auth import get_user_model

from datasources.admin.forms import CREDENTIAL_KEYS
from datasources.models import DataSource

CANARY = "admin-canary-s3cret-9f2c"


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "pw")


@pytest.fixture
def staff_client(client, root):
    client.force_login(root)
    return client


def form_data(org, **overrides):
    data = {
        "organization": org.pk, "workspace": "", "name": "Warehouse", "type": "postgresql",
        "description": "", "host": "db.example.com", "port": "5432", "database_name": "prod",
        "schema_name": "", "file_path": "", "connection_string": "", "ssh_host": "", "ssh_port": "",
        "ssh_username": "", "ssh_local_port": "", "connection_pool_size": "5",
        "connection_timeout": "30", "query_timeout": "300", "max_retries": "3",
        "schema_auto_refresh": "on", "schema_refresh_interval": "3600", "metadata": "{}",
        "tags": "prod, finance",
    }
    data.update({f"credential_{k}": "" for k in CREDENTIAL_KEYS})
    data.update(credential_username="dbuser", credential_password=CANARY)
    data.update(overrides)
    return data


def test_admin_creates_through_the_service(staff_client, org, root):
    response = staff_client.post("/admin/datasources/datasource/add/", form_data(org))
    assert response.status_code == 302, response.content.decode()[:2000]
    source = DataSource.objects.get()
    assert source.credentials == {"username": "dbuser", "password": CANARY}
    assert source.tags == ["prod", "finance"]
    assert source.created_by == root and source.organization == org


def test_blank_password_keeps_the_stored_one(staff_client, org):
    staff_client.post("/admin/datasources/datasource/add/", form_data(org))
    source = DataSource.objects.get()
    response = staff_client.post(
        f"/admin/datasources/datasource/{source.pk}/change/",
        form_data(org, description="now described", credential_password=""),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    source.refresh_from_db()
    assert source.description == "now described"
    assert source.credentials["password"] == CANARY


def test_change_page_never_renders_a_secret(staff_client, org):
    staff_client.post("/admin/datasources/datasource/add/", form_data(
        org, connection_string=f"postgresql://u:{CANARY}x@db.example.com:5432/prod"))
    source = DataSource.objects.get()
    for url in ("/admin/datasources/datasource/", f"/admin/datasources/datasource/{source.pk}/change/"):
        html = staff_client.get(url).content.decode()
        assert source.name in html
        assert CANARY not in html
    assert "password, connection_string" in html


def test_validation_errors_show_on_the_fields(staff_client, org):
    response = staff_client.post("/admin/datasources/datasource/add/", form_data(org, port="70000"))
    assert response.status_code == 200
    assert "less than or equal to 65535" in response.context["adminform"].form.errors["port"][0]
    response = staff_client.post("/admin/datasources/datasource/add/", form_data(org, host=""))
    assert "required for postgresql" in response.context["adminform"].form.errors["host"][0]
    assert "required for postgresql" in response.content.decode()
    assert not DataSource.objects.exists()


def test_duplicate_name_is_an_error_on_name(staff_client, org):
    staff_client.post("/admin/datasources/datasource/add/", form_data(org))
    response = staff_client.post("/admin/datasources/datasource/add/", form_data(org, name=" warehouse "))
    assert "already exists" in response.context["adminform"].form.errors["name"][0]
    assert DataSource.objects.count() == 1


def test_unknown_ssh_setup_is_an_error(staff_client, org):
    response = staff_client.post("/admin/datasources/datasource/add/", form_data(org, use_ssh_tunnel="on"))
    errors = response.context["adminform"].form.errors
    assert "ssh_host" in errors and "ssh_username" in errors


@pytest.fixture
def staff_alice(alice):
    alice.is_staff = True
    alice.save()
    return alice


def test_staff_cannot_create_in_another_organization(client, staff_alice, other_org):
    client.force_login(staff_alice)
    response = client.post("/admin/datasources/datasource/add/", form_data(other_org))
    assert "organization" in response.context["adminform"].form.errors
    assert not DataSource.objects.exists()


def _now():
    from django.utils import timezone

    return timezone.now()


def test_the_health_check_interval_is_on_the_form_with_its_rule(staff_client, org, settings):
    page = staff_client.get("/admin/datasources/datasource/add/").content.decode()
    assert 'name="health_check_interval"' in page and "0 turns them off" in page
    response = staff_client.post("/admin/datasources/datasource/add/",
                                 form_data(org, health_check_interval="10"))
    assert "Must be 0 (no scheduled checks)" in response.context["adminform"].form.errors["health_check_interval"][0]
    assert staff_client.post("/admin/datasources/datasource/add/",
                             form_data(org, health_check_interval="0")).status_code == 302
    source = DataSource.objects.get()
    assert source.health_check_interval == 0 and source.health_next_check_at is None
    response = staff_client.post(f"/admin/datasources/datasource/{source.pk}/change/",
                                 form_data(org, health_check_interval="", credential_password=""))
    assert response.status_code == 302  # blank: the server's default
    source.refresh_from_db()
    assert source.health_check_interval == settings.HEALTH_CHECK_INTERVAL_SECONDS


def test_checking_a_valid_page_writes_nothing(rf, root, org):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from datasources.admin.forms import DataSourceAdminForm
    from datasources.models import StoredFile

    request = rf.post("/")
    request.user = root
    data = form_data(org, type="csv", name="Sales", host="", port="", database_name="")
    form = DataSourceAdminForm(data, {"upload_file": SimpleUploadedFile("sales.csv", b"a,b\n1,2\n")},
                               request=request)
    assert form.is_valid(), form.errors
    assert not DataSource.objects.exists() and not StoredFile.objects.exists()  # stored only on save
    source = form.save_through_service()
    assert StoredFile.objects.get().name == source.file_path
