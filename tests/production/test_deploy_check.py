"""`manage.py check --deploy` is clean with the production environment the README documents."""
import secrets
import subprocess
import sys

from tests.production.stack import ROOT

# The README's "Production" example, with a real key instead of the placeholder.
DOCUMENTED = {
    "DEBUG": "false",
    "ALLOWED_HOSTS": "rivergen.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://rivergen.example.com",
    "DATABASE_URL": "postgres://rivergen:secret@db.internal:5432/rivergen",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "CACHE_URL": "redis://redis.internal:6379/1",
    "SECURE_PROXY_SSL_HEADER": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
}


def check_deploy(extra):
    env = {"PATH": "/usr/bin:/bin", "SECRET_KEY": secrets.token_urlsafe(50),
           "CRYPTOGRAPHY_KEY": secrets.token_urlsafe(50), **extra}
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_the_documented_environment():
    result = check_deploy(DOCUMENTED)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_the_tls_settings_check_deploy_warns():
    result = check_deploy({"DEBUG": "false", "ALLOWED_HOSTS": "rivergen.example.com"})
    assert result.returncode != 0
    for warning in ("W004", "W008", "W012", "W016"):
        assert f"security.{warning}" in result.stderr + result.stdout
