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
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.apps import apps
from django.conf import settings
from django.core.signing import BadSignature
from django.db import connections, models, router, transaction
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


# --- Rotation: re-encrypt stored values from the previous keys to the current ones ---------------

@dataclass
class RotationReport:
    checked: int = 0
    changed: int = 0
    already_current: int = 0
    changed_meanwhile: int = 0  # rewritten by the application between our read and our write
    unreadable: list = field(default_factory=list)  # "app.Model.field#pk" that no key opens

    def as_dict(self) -> dict:
        return {
            "checked": self.checked, "changed": self.changed, "already_current": self.already_current,
            "changed_meanwhile": self.changed_meanwhile, "unreadable": len(self.unreadable),
            "unreadable_values": self.unreadable,
        }


def encrypted_columns():
    """(model, field) for every encrypted field of every installed model."""
    return [
        (model, f)
        for model in apps.get_models()
        for f in model._meta.concrete_fields
        if isinstance(f, EncryptedMixin) and not f.key
    ]


def rotate_encryption(*, batch_size: int = 500, dry_run: bool = False, report=None) -> RotationReport:
    """Re-encrypt, batch by batch, every value the previous keys open; idempotent.

    Works on the stored bytes (not through the model) and writes each value only if
    it is still the bytes it read, so that concurrent saves are never overwritten.
    ``report`` (filled as it goes) lets a caller see the counts of a run that fails midway.
    """
    report = report if report is not None else RotationReport()
    for model, column in encrypted_columns():
        last_pk = None
        while True:
            rows = _read_batch(model, column, last_pk, batch_size)
            if not rows:
                break
            with transaction.atomic(using=router.db_for_write(model)):
                for pk, raw in rows:
                    _rotate_one(model, column, pk, bytes(raw), report, dry_run)
            last_pk = rows[-1][0]
    return report


def _rotate_one(model, column, pk, raw, report, dry_run):
    report.checked += 1
    value, opened_with = decrypt_value(raw)
    if opened_with == "current":
        report.already_current += 1
    elif opened_with is None:
        report.unreadable.append(f"{model._meta.label}.{column.name}#{pk}")
    elif dry_run or _write_if_unchanged(model, column, pk, raw, encrypt_value(value)):
        report.changed += 1
    else:
        report.changed_meanwhile += 1


def _table_sql(model, column):
    qn = connections[router.db_for_write(model)].ops.quote_name
    return qn(model._meta.db_table), qn(model._meta.pk.column), qn(column.column)


def _read_batch(model, column, last_pk, size):
    table, pk, col = _table_sql(model, column)
    where = f"{col} IS NOT NULL" + (f" AND {pk} > %s" if last_pk is not None else "")
    params = [last_pk] if last_pk is not None else []
    with connections[router.db_for_read(model)].cursor() as cursor:
        cursor.execute(f"SELECT {pk}, {col} FROM {table} WHERE {where} ORDER BY {pk} LIMIT %s", [*params, size])
        return cursor.fetchall()


def _write_if_unchanged(model, column, pk, old_raw, new_raw) -> bool:
    table, pk_col, col = _table_sql(model, column)
    connection = connections[router.db_for_write(model)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {col} = %s WHERE {pk_col} = %s AND {col} = %s",
            [connection.Database.Binary(new_raw), pk, connection.Database.Binary(old_raw)],
        )
        return cursor.rowcount == 1
