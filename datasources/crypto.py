"""Encrypted model fields that survive a change of keys, and the key rotation they need.

django-cryptography derives its AES key from ``CRYPTOGRAPHY_KEY`` and signs with
``SECRET_KEY``, both captured when the field is created, and a value either key
no longer opens makes every read of the row raise. ``TolerantEncryptedField``
keeps the package's storage format (so existing rows and migrations are
unchanged) but:

- reads the keys from settings when used, not at import;
- also opens values written under the previous keys (``OLD_SECRET_KEY`` /
  ``OLD_CRYPTOGRAPHY_KEY``), so the service keeps working between a key change
  and ``manage.py rotate_encryption_keys``;
- returns an ``Unreadable`` marker instead of raising for a value no key opens,
  and writes that marker back as the very bytes it came from, so saving such a
  row never destroys what a later rotation with the right key could recover.
"""
import pickle
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.conf import settings
from django.core.signing import BadSignature
from django.db import models
from django.utils.encoding import force_bytes
from django_cryptography.core.signing import FernetSigner
from django_cryptography.fields import EncryptedMixin
from django_cryptography.utils.crypto import FernetBytes, InvalidToken

# The package's key derivation (django_cryptography.conf.CryptographyConf.configure).
_KDF_SALT_DEFAULT = b"django-cryptography"
_KDF_ITERATIONS = 30000


@dataclass(frozen=True)
class Unreadable:
    """A stored value that none of the configured keys opens; ``raw`` is the stored bytes."""

    raw: bytes

    def __bool__(self):
        return True  # a value is there, it just cannot be read

    def __repr__(self):
        return "<unreadable encrypted value>"


@dataclass(frozen=True)
class KeyPair:
    secret_key: str
    cryptography_key: str | bytes  # a raw key (str) or the package's derived key (bytes)


@lru_cache(maxsize=16)
def _derive(raw_key: str) -> bytes:
    salt = force_bytes(getattr(settings, "CRYPTOGRAPHY_SALT", _KDF_SALT_DEFAULT))
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=_KDF_ITERATIONS)
    return kdf.derive(force_bytes(raw_key))


@lru_cache(maxsize=16)
def fernet_for(keys: KeyPair) -> FernetBytes:
    aes_key = keys.cryptography_key
    # Importing django_cryptography replaces settings.CRYPTOGRAPHY_KEY with its derived bytes;
    # a str is a raw key (from the environment or a test override) and is derived here.
    if isinstance(aes_key, str):
        aes_key = _derive(aes_key or keys.secret_key)
    return FernetBytes(aes_key, FernetSigner(keys.secret_key))


def current_keys() -> KeyPair:
    return KeyPair(settings.SECRET_KEY, settings.CRYPTOGRAPHY_KEY or settings.SECRET_KEY)


def previous_keys() -> list[KeyPair]:
    """The key pairs values may still be stored under, from OLD_SECRET_KEY / OLD_CRYPTOGRAPHY_KEY."""
    old_secret = getattr(settings, "OLD_SECRET_KEY", None)
    old_crypto = getattr(settings, "OLD_CRYPTOGRAPHY_KEY", None)
    if not old_secret and not old_crypto:
        return []
    current = current_keys()
    pairs = [KeyPair(old_secret or current.secret_key, old_crypto or current.cryptography_key)]
    if old_secret and not old_crypto:
        # CRYPTOGRAPHY_KEY defaults to SECRET_KEY: a deployment that never set it changed both.
        pairs.append(KeyPair(old_secret, old_secret))
    return [pair for pair in dict.fromkeys(pairs) if pair != current]


def encrypt_value(value, keys: KeyPair | None = None) -> bytes:
    return fernet_for(keys or current_keys()).encrypt(pickle.dumps(value))


def open_value(raw: bytes, keys: KeyPair):
    """The value stored in ``raw`` under ``keys``; raises ValueError when they do not open it."""
    try:
        return pickle.loads(fernet_for(keys).decrypt(force_bytes(raw)))
    except (BadSignature, InvalidToken, pickle.UnpicklingError, EOFError, ValueError) as err:
        raise ValueError("The value does not open with these keys.") from err


def decrypt_value(raw: bytes):
    """(value, "current" | "previous"), or (Unreadable(raw), None) when no configured key opens it."""
    for label, candidates in (("current", [current_keys()]), ("previous", previous_keys())):
        for keys in candidates:
            try:
                return open_value(raw, keys), label
            except ValueError:
                continue
    return Unreadable(bytes(raw)), None


class TolerantEncryptedMixin(EncryptedMixin):
    def _dump(self, value) -> bytes:
        if isinstance(value, Unreadable):
            return value.raw
        return encrypt_value(value)

    def _load(self, value: bytes):
        return decrypt_value(value)[0]

    def to_python(self, value):
        # Model.full_clean() must not turn the marker into text that a save would then encrypt.
        if isinstance(value, Unreadable):
            return value
        return super().to_python(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        if isinstance(value, Unreadable):
            return connection.Database.Binary(value.raw)
        return super().get_db_prep_value(value, connection, prepared)

    def deconstruct(self):
        # Exactly what django_cryptography's encrypt(models.X(...)) gives, so that swapping
        # the class in needs no migration.
        name, _path, args, kwargs = super(EncryptedMixin, self).deconstruct()
        return name, "django_cryptography.fields.encrypt", [self.base_class(*args, **kwargs)], {}

    def clone(self):
        name, _path, args, kwargs = super(EncryptedMixin, self).deconstruct()
        return self.__class__(*args, **kwargs)


class TolerantEncryptedTextField(TolerantEncryptedMixin, models.TextField):
    base_class = models.TextField
    wasinstance = True


class TolerantEncryptedJSONField(TolerantEncryptedMixin, models.JSONField):
    base_class = models.JSONField
    wasinstance = True

    def validate(self, value, model_instance):
        if not isinstance(value, Unreadable):
            super().validate(value, model_instance)
