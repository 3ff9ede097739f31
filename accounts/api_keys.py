"""API keys: a service account's credential, and the format that secret scanners recognise.

A key reads ``rgk_<prefix>_<secret>``: ``prefix`` (8 lowercase letters or digits) names the key
and is stored in clear; ``secret`` is 30 random base62 characters followed by 6 of a CRC-32 of
everything before it, so a scanner (and this code) can tell a real key from a typo without a
lookup. Only a SHA-256 of the whole key is stored: the secret has ~178 random bits, so a plain
hash cannot be reversed, and it stays valid when SECRET_KEY changes.

Each key has its own service identity, a User with no usable password and a Membership with the
key's role: the roles and tenancy rules of memberships apply to it unchanged, and what it writes
names that identity. ``workspace_ids`` further limits it to those workspaces
(``accounts.selectors.workspace_scope``).
"""
import hashlib
import re
import secrets
import string
import zlib

from django.conf import settings
from django.db import models

from accounts.roles import Role

ALPHABET = string.digits + string.ascii_letters
PREFIX_ALPHABET = string.digits + string.ascii_lowercase
PREFIX_LENGTH, RANDOM_LENGTH, CHECKSUM_LENGTH = 8, 30, 6
# The pattern for secret scanners (README "API keys"); the checksum is checked in ``parse_key``.
KEY_PATTERN = re.compile(r"\Argk_([0-9a-z]{8})_([0-9A-Za-z]{36})\Z")
IDENTITY_PREFIX = "api-key:"  # ':' is not allowed in usernames people get, so no person clashes


class ApiKey(models.Model):
    name = models.CharField(max_length=255)
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True)
    key_hash = models.CharField(max_length=64)  # sha256 hex of the whole key; the key itself is never stored
    role = models.CharField(max_length=16, choices=Role.choices)
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="api_keys")
    workspace_ids = models.JSONField(null=True, blank=True)  # null: the whole organization
    identity = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_key")
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="api_keys_created",
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.name} (rgk_{self.prefix}_…)"


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        digits.append(ALPHABET[rest])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), CHECKSUM_LENGTH)


def new_key() -> tuple[str, str]:
    """A fresh (prefix, key)."""
    prefix = "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    body = f"rgk_{prefix}_" + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return prefix, body + _checksum(body)


def parse_key(key: str) -> str | None:
    """The prefix of a well-formed key whose checksum holds; None for anything else."""
    found = KEY_PATTERN.match(key)
    if found is None or _checksum(key[:-CHECKSUM_LENGTH]) != key[-CHECKSUM_LENGTH:]:
        return None
    return found.group(1)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(token: str) -> bool:
    return token.startswith("rgk_")
