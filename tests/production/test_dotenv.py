"""Production never picks up the development .env that `make run` writes (issue 22, item 10)."""
import os
import subprocess
import sys

from tests.production.stack import ROOT

SHOW = "from django.conf import settings; print(settings.DEBUG, settings.DATASOURCES_NETWORK_POLICY)"


def settings_seen(dotenv_file):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DJANGO_SETTINGS_MODULE": "rivergen.settings",
           "SECRET_KEY": "k" * 50, "DOTENV_FILE": dotenv_file}
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", SHOW], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1].split()


def test_the_development_file_is_read_unless_dotenv_file_is_empty(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("DEBUG=true\n")

    assert settings_seen(str(dotenv)) == ["True", "open"]
    assert settings_seen("") == ["False", "private"]


def test_make_serve_and_gunicorn_ignore_the_development_file():
    dry_run = subprocess.run(["make", "-n", "serve"], cwd=ROOT, capture_output=True, text=True, timeout=60).stdout
    commands = [line for line in dry_run.splitlines() if "manage.py" in line or "celery" in line or "gunicorn" in line]
    assert commands and all(line.strip().startswith("DOTENV_FILE= ") for line in commands), dry_run
    assert "ignoring .env" in dry_run
    config = (ROOT / "gunicorn.conf.py").read_text()
    assert 'os.environ.setdefault("DOTENV_FILE", "")' in config
