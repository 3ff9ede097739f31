"""Secret references: a credential value ``{"secret_ref": "<provider>:<reference>"}`` names a secret
the operator already keeps elsewhere. It is stored as written (it is not a secret), checked when
saved, and resolved only when a connection is made (``connectors.base.credentials_of``); the value
is cached in this process for at most 60 s and never written anywhere.

Providers are off unless listed in ``SECRET_REFERENCE_PROVIDERS``. Every reference names the secret
as its store knows it, and must lie inside the organization's own namespace, so that nobody can make
a worker send the server's secrets, or another organization's, to a host of theirs:

- ``env:<PREFIX>ORG_<id>_<NAME>``: an environment variable; ``SECRET_REFERENCE_ENV_PREFIX`` has no
  default (without it the provider stays off).
- ``file:org-<id>/<path>``: a file under ``SECRET_REFERENCE_FILE_ROOT``; no ``..``, no absolute path,
  and no symbolic link that leads out of the organization's folder.
- ``aws-sm:<SECRET_REFERENCE_AWS_PREFIX>/org-<id>/<name>[#json key]``: AWS Secrets Manager through
  boto3, with the endpoint, region and credentials of the operator's settings.
"""
import json
import os
import re
import threading
import time

from django.conf import settings

REF_KEY = "secret_ref"
PROVIDERS = ("env", "file", "aws-sm")
MAX_CACHE_SECONDS = 60
ENV_NAME = re.compile(r"[A-Z0-9_]+")
AWS_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")

_cache: dict = {}
_lock = threading.Lock()
_now = time.monotonic  # a seam: tests move the clock to see the cache expire


class ReferenceRefused(ValueError):
    """A reference that is malformed, off, or outside the organization's namespace (safe to show)."""


class ReferenceUnresolved(Exception):
    """A well-formed reference whose secret cannot be read now; the message names the reference only."""


def is_reference(value) -> bool:
    return isinstance(value, dict) and list(value) == [REF_KEY] and isinstance(value[REF_KEY], str)


def check_reference(reference: str, organization_id: int) -> tuple[str, str]:
    """(provider, the store's name) for ``reference``; ReferenceRefused when it may not be used."""
    provider, _, name = reference.partition(":")
    if provider not in PROVIDERS or not name:
        raise ReferenceRefused(f"{reference!r} is not <provider>:<reference> with a provider of {', '.join(PROVIDERS)}.")
    if provider not in _setting("SECRET_REFERENCE_PROVIDERS", ()):
        raise ReferenceRefused(f"The {provider} secret provider is not enabled on this server.")
    {"env": _check_env, "file": _check_file, "aws-sm": _check_aws}[provider](name, organization_id)
    return provider, name


def resolve(reference: str, organization_id: int) -> str:
    """The secret's value now (cached up to 60 s); ReferenceUnresolved when it cannot be read."""
    key = (organization_id, reference)
    with _lock:
        hit = _cache.get(key)
        if hit and hit[0] > _now():
            return hit[1]
    try:
        provider, name = check_reference(reference, organization_id)
    except ReferenceRefused as exc:
        raise ReferenceUnresolved(f"{reference}: {exc}") from None
    value = {"env": _read_env, "file": _read_file, "aws-sm": _read_aws}[provider](name, organization_id)
    seconds = min(MAX_CACHE_SECONDS, _setting("SECRET_REFERENCE_CACHE_SECONDS", MAX_CACHE_SECONDS))
    with _lock:
        _cache[key] = (_now() + seconds, value)
    return value


def resolved_credentials(credentials: dict, organization_id: int) -> dict:
    """``credentials`` with every reference replaced by its value (a new dict; the stored one is untouched)."""
    if not any(is_reference(value) for value in credentials.values()):
        return credentials
    return {key: resolve(value[REF_KEY], organization_id) if is_reference(value) else value
            for key, value in credentials.items()}


def forget_cached() -> None:
    with _lock:
        _cache.clear()


def _setting(name, default):
    return getattr(settings, name, default)


def _check_env(name, organization_id):
    prefix = _setting("SECRET_REFERENCE_ENV_PREFIX", "")
    if not prefix:
        raise ReferenceRefused("The env secret provider needs SECRET_REFERENCE_ENV_PREFIX on this server.")
    own = f"{prefix}ORG_{organization_id}_"
    if not ENV_NAME.fullmatch(name) or not name.startswith(own) or name == own:
        raise ReferenceRefused(f"An env reference must name a variable {own}<NAME> (capitals, digits, _).")


def _file_root():
    root = _setting("SECRET_REFERENCE_FILE_ROOT", "")
    if not root:
        raise ReferenceRefused("The file secret provider needs SECRET_REFERENCE_FILE_ROOT on this server.")
    return os.path.realpath(root)


def _check_file(name, organization_id):
    own = f"org-{organization_id}/"
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or "\x00" in name or ".." in parts or "." in parts or "" in parts:
        raise ReferenceRefused(f"A file reference is a plain relative path like {own}<file> (no .., no absolute path).")
    if not name.startswith(own):
        raise ReferenceRefused(f"A file reference must lie in this organization's folder: {own}<file>.")
    folder = os.path.join(_file_root(), own.rstrip("/"))
    real = os.path.realpath(os.path.join(_file_root(), name))
    if not real.startswith(os.path.realpath(folder) + os.sep):  # a symbolic link out of the folder
        raise ReferenceRefused(f"The file reference {name!r} leads out of this organization's folder.")


def _check_aws(name, organization_id):
    own = f"{_setting('SECRET_REFERENCE_AWS_PREFIX', 'rivergen')}/org-{organization_id}/"
    secret_id, _, json_key = name.partition("#")
    if not AWS_NAME.fullmatch(secret_id) or not secret_id.startswith(own) or secret_id == own or ".." in secret_id:
        raise ReferenceRefused(f"An aws-sm reference must name a secret {own}<name>[#json key] (not an ARN).")
    if "#" in json_key:
        raise ReferenceRefused("An aws-sm reference has at most one #json key.")


def _read_env(name, organization_id):
    value = os.environ.get(name)
    if value is None:
        raise ReferenceUnresolved(f"env:{name}: the variable is not set on this server.")
    return value


def _read_file(name, organization_id):
    try:  # check_reference has just checked where this path really leads
        with open(os.path.realpath(os.path.join(_file_root(), name)), encoding="utf-8") as handle:
            return handle.read().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise ReferenceUnresolved(f"file:{name}: {reason}.") from None


def _read_aws(name, organization_id):
    secret_id, _, json_key = name.partition("#")
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise ReferenceUnresolved(f"aws-sm:{name}: boto3 is not installed on this server.") from None
    client = boto3.client(
        "secretsmanager",
        endpoint_url=_setting("SECRET_REFERENCE_AWS_ENDPOINT_URL", None) or None,
        region_name=_setting("SECRET_REFERENCE_AWS_REGION", None) or "us-east-1",
        aws_access_key_id=_setting("SECRET_REFERENCE_AWS_ACCESS_KEY_ID", None) or None,
        aws_secret_access_key=_setting("SECRET_REFERENCE_AWS_SECRET_ACCESS_KEY", None) or None,
    )
    try:
        text = client.get_secret_value(SecretId=secret_id).get("SecretString")
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "an error")
        raise ReferenceUnresolved(f"aws-sm:{name}: Secrets Manager answered {code}.") from None
    except BotoCoreError:
        raise ReferenceUnresolved(f"aws-sm:{name}: Secrets Manager could not be reached.") from None
    if text is None:
        raise ReferenceUnresolved(f"aws-sm:{name}: the secret holds no text.")
    if not json_key:
        return text
    try:
        value = json.loads(text)[json_key]
    except (ValueError, KeyError, TypeError):
        raise ReferenceUnresolved(f"aws-sm:{name}: the secret is not a JSON object with the key {json_key!r}.") from None
    if not isinstance(value, str):
        raise ReferenceUnresolved(f"aws-sm:{name}: the key {json_key!r} does not hold a string.")
    return value
