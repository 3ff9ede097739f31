import json
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from accounts.models import Membership, Organization
from datasources.models import DataSource

CANARY = "cli-canary-pa55-7e1d"


def run(*args, stdin=None):
    out = StringIO()
    extra = {"stdin": StringIO(stdin)} if stdin is not None else {}
    call_command(*args, stdout=out, **extra)
    return json.loads(out.getvalue())


def test_create_organization_prints_it_with_workspaces(db):
    printed = run("create_organization", "Initech", "--workspace", "BI", "--workspace", "Ops")
    org = Organization.objects.get(name="Initech")
    assert printed == {"id": org.pk, "name": "Initech", "workspaces": [
        {"id": w.pk, "name": w.name} for w in org.workspaces.order_by("id")]}
    assert [w["name"] for w in printed["workspaces"]] == ["BI", "Ops"]


def test_create_user_reads_the_password_from_stdin(org):
    printed = run("create_user", "dana", "--organization", str(org.pk), "--role", "viewer",
                  "--password-stdin", stdin="correct horse battery\n")
    membership = Membership.objects.get(user_id=printed["id"])
    assert printed["username"] == "dana" and membership.role == "viewer"
    assert membership.user.check_password("correct horse battery")


def test_create_user_staff_can_sign_in_at_the_admin(org):
    from django.test import Client

    printed = run("create_user", "erin", "--organization", str(org.pk), "--role", "admin", "--staff",
                  "--password-stdin", stdin="correct horse battery\n")
    assert printed["staff"] is True
    client = Client()
    signed_in = client.post("/admin/login/?next=/admin/", {"username": "erin", "password": "correct horse battery"})
    assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/"
    page = client.get("/admin/datasources/datasource/")
    assert page.status_code == 200 and b"Data sources" in page.content


def test_create_user_staff_needs_an_organization_and_writes_nothing_when_refused(org):
    from django.contrib.auth import get_user_model

    with pytest.raises(CommandError, match="organization"):
        run("create_user", "erin", "--staff", "--password-stdin", stdin="correct horse battery\n")
    with pytest.raises(CommandError, match="organization"):
        run("create_user", "erin", "--organization", "999999", "--password-stdin", stdin="correct horse battery\n")
    assert not get_user_model().objects.filter(username="erin").exists()


def test_create_user_refuses_a_weak_password(org):
    with pytest.raises(CommandError, match="password"):
        run("create_user", "dana", "--password-stdin", stdin="123")


def test_create_datasource_from_a_file(tmp_path, alice, spec_body):
    body = tmp_path / "body.json"
    spec_body["credentials"]["password"] = CANARY
    body.write_text(json.dumps(spec_body))
    out = StringIO()
    call_command("create_datasource", "--user", "alice", "--file", str(body), stdout=out)
    assert CANARY not in out.getvalue()
    printed = json.loads(out.getvalue())
    source = DataSource.objects.get()
    assert printed["id"] == source.pk and printed["name"] == "Production PostgreSQL"
    assert source.credentials["password"] == CANARY and printed["created_by_user_id"] == alice.pk


def test_create_datasource_from_flags_with_password_on_stdin(alice):
    printed = run("create_datasource", "--user", "alice", "--name", "Orders", "--type", "mysql",
                  "--host", "db", "--port", "3306", "--database-name", "shop", "--username", "app",
                  "--tag", "shop", "--tag", "shop", "--password-stdin", stdin=CANARY + "\n")
    source = DataSource.objects.get(pk=printed["id"])
    assert source.credentials == {"username": "app", "password": CANARY}
    assert printed["tags"] == ["shop"]


def test_duplicate_name_is_a_conflict(alice, spec_body):
    run("create_datasource", "--user", "alice", "--json", json.dumps({**spec_body, "credentials": {}}))
    with pytest.raises(CommandError, match="Conflict: .*already exists"):
        run("create_datasource", "--user", "alice", "--json",
            json.dumps({**spec_body, "name": "production postgresql ", "credentials": {}}))


def test_bad_json_is_a_clear_error(alice):
    with pytest.raises(CommandError, match="not valid JSON"):
        run("create_datasource", "--user", "alice", "--json", "{not json")


def test_validation_errors_name_the_fields(alice):
    with pytest.raises(CommandError, match="(?s)Invalid input:.*port"):
        run("create_datasource", "--user", "alice", "--json",
            json.dumps({"name": "x", "type": "postgresql", "port": "5432", "credentials": {}}))


def test_secrets_on_argv_are_refused(alice):
    body = {"name": "x", "type": "postgresql", "credentials": {"password": CANARY}}
    with pytest.raises(CommandError) as raised:
        run("create_datasource", "--user", "alice", "--json", json.dumps(body))
    assert "argv" in str(raised.value) and CANARY not in str(raised.value)
    assert not DataSource.objects.exists()


def test_unknown_user_is_a_clear_error(db):
    with pytest.raises(CommandError, match="No user"):
        run("create_datasource", "--user", "ghost", "--json", "{}")


@pytest.mark.django_db(transaction=True)
def test_command_line_failure_exits_non_zero_without_traceback(alice):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "rivergen.test_settings"}
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    else:
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    done = subprocess.run(
        [sys.executable, "manage.py", "create_datasource", "--user", "alice", "--json", "[1, 2"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode != 0
    assert "not valid JSON" in done.stderr and "Traceback" not in done.stderr


def test_create_datasource_takes_every_input_field_as_a_flag(alice):
    # health_check_interval had no flag before the flags were derived from the input serializer.
    run("create_datasource", "--user", "alice", "--name", "Quiet", "--type", "mysql", "--host", "db",
        "--port", "3306", "--database-name", "shop", "--health-check-interval", "0", "--no-schema-auto-refresh")
    source = DataSource.objects.get(name="Quiet")
    assert source.health_check_interval == 0 and source.health_next_check_at is None
    assert source.schema_auto_refresh is False
    with pytest.raises(CommandError, match="health_check_interval: Must be 0"):
        run("create_datasource", "--user", "alice", "--name", "Eager", "--type", "mysql", "--host", "db",
            "--port", "3306", "--database-name", "shop", "--health-check-interval", "10")


def test_create_datasource_takes_tls_as_a_json_flag_and_checks_it(alice):
    from tests.support.certificates import shared_authority

    tls = {"mode": "verify-full", "ca_certificate": shared_authority().pem, "client_certificate": None}
    run("create_datasource", "--user", "alice", "--name", "Verified", "--type", "postgresql", "--host", "db",
        "--port", "5432", "--database-name", "shop", "--tls", json.dumps(tls))
    assert DataSource.objects.get(name="Verified").tls == tls
    with pytest.raises(CommandError, match="mode"):
        run("create_datasource", "--user", "alice", "--name", "Weak", "--type", "snowflake", "--host",
            "acme.snowflakecomputing.com", "--port", "443", "--database-name", "db", "--tls", '{"mode": "require"}')
