"""TLS settings of a source: parsing and checking its PEM material, the private temporary files
drivers read it from, and the summary of a server's certificate.

A source's ``tls`` is ``{"mode", "ca_certificate", "client_certificate"}`` (null: the type's
default); the client key is the secret credential ``tls_client_key``. Drivers that only take file
names get the material in a private directory (0700, files 0600) removed when the connection ends,
never under a path a user chose.
"""
import hashlib
import os
import shutil
import ssl
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.core.exceptions import ValidationError

MODES = ("disable", "prefer", "require", "verify-ca", "verify-full")
ENCRYPTING = ("require", "verify-ca", "verify-full")
VERIFYING = ("verify-ca", "verify-full")
VERIFIED_ONLY = ("verify-full",)  # types that only speak verified HTTPS
MAX_PEM_BYTES = 64 * 1024
KEYS = ("mode", "ca_certificate", "client_certificate")
CLIENT_KEY = "tls_client_key"
UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def strength(mode: str | None) -> int:
    return MODES.index(mode) if mode in MODES else 0


def parse_tls(value) -> dict | None:
    """The checked ``tls`` object (or None); ValidationError naming the part that is wrong."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationError({"tls": ["Must be an object with mode, ca_certificate and client_certificate, or null."]})
    unknown = sorted(set(value) - set(KEYS))
    if unknown:
        raise ValidationError({"tls": [f"Unknown key(s): {', '.join(unknown)}. Accepted: {', '.join(KEYS)}."]})
    mode = value.get("mode")
    if mode not in MODES:
        raise ValidationError({"tls.mode": [f"Must be one of: {', '.join(MODES)}."]})
    parsed = {"mode": mode}
    for key in ("ca_certificate", "client_certificate"):
        pem = value.get(key)
        if isinstance(pem, str) and not pem.strip():
            pem = None  # blank, like an empty text field: none given
        if pem is not None:
            certificates(pem, f"tls.{key}")
        parsed[key] = pem
    return parsed


def certificates(pem, field: str) -> list:
    """The certificates of a PEM text (a bundle is fine); ValidationError on ``field`` otherwise."""
    from cryptography import x509

    _check_pem_text(pem, field)
    try:
        found = x509.load_pem_x509_certificates(pem.encode())
    except ValueError:
        raise ValidationError({field: ["Must be PEM certificate(s) (-----BEGIN CERTIFICATE-----)."]}) from None
    return found


def check_client_pair(tls: dict | None, client_key) -> None:
    """A client certificate needs its private key, and they must belong together."""
    from cryptography.hazmat.primitives import serialization

    certificate = (tls or {}).get("client_certificate")
    if certificate is None and client_key is None:
        return
    if certificate is None:
        raise ValidationError({"tls.client_certificate": [
            "credentials.tls_client_key is set: give the client certificate it belongs to."]})
    field = f"credentials.{CLIENT_KEY}"
    if client_key is None:
        raise ValidationError({field: ["A client certificate needs its private key (PEM)."]})
    _check_pem_text(client_key, field)
    try:
        key = serialization.load_pem_private_key(client_key.encode(), password=None)
    except (ValueError, TypeError):
        raise ValidationError({field: ["Must be an unencrypted PEM private key."]}) from None
    public = certificates(certificate, "tls.client_certificate")[0].public_key()
    encoding = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*encoding) != public.public_bytes(*encoding):
        raise ValidationError({field: ["This private key does not belong to tls.client_certificate."]})


def _check_pem_text(pem, field):
    if not isinstance(pem, str) or not pem.strip():
        raise ValidationError({field: ["Must be PEM text."]})
    if len(pem.encode()) > MAX_PEM_BYTES:
        raise ValidationError({field: [f"Must be at most {MAX_PEM_BYTES // 1024} KiB."]})


@dataclass
class Material:
    """Paths of the private files a driver reads; None where the source gives nothing."""
    mode: str
    directory: str = ""
    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    seen: dict = field(default_factory=dict)  # what a handshake left (``recording``), for ``tls_report``


@contextmanager
def material(tls: dict, client_key: str | None):
    """Write the source's PEMs to a private directory for the connection's lifetime."""
    directory = tempfile.mkdtemp(prefix="rg-tls-")  # 0700, a fresh random name
    try:
        found = Material(tls["mode"], directory)
        for attr, pem in (("ca", tls.get("ca_certificate")), ("cert", tls.get("client_certificate")),
                          ("key", client_key if tls.get("client_certificate") else None)):
            if pem:
                path = os.path.join(directory, attr + ".pem")
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, "w") as handle:
                    handle.write(pem)
                setattr(found, attr, path)
        yield found
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def client_context(found: Material, *, check_hostname: bool | None = None) -> ssl.SSLContext:
    """A Python ``ssl`` context for ``found.mode``; the system trust store when no CA is given."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = found.mode == "verify-full" if check_hostname is None else check_hostname
    if found.mode in VERIFYING:
        context.verify_mode = ssl.CERT_REQUIRED
        if found.ca:
            context.load_verify_locations(cafile=found.ca)
        else:
            context.load_default_certs()
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if found.cert:
        context.load_cert_chain(found.cert, found.key)
    return context


def certificate_summary(der: bytes | None) -> dict | None:
    """What the test result and health show of a server certificate (DER bytes)."""
    if not der:
        return None
    from cryptography import x509

    certificate = x509.load_der_x509_certificate(der)
    not_after = certificate.not_valid_after_utc.strftime(UTC_FORMAT)
    return {
        "subject": certificate.subject.rfc4514_string(),
        "issuer": certificate.issuer.rfc4514_string(),
        "not_after": not_after,
        "days_left": days_until(not_after),
        "sha256": hashlib.sha256(der).hexdigest(),
    }


def parse_utc(text: str) -> datetime:
    return datetime.strptime(text, UTC_FORMAT).replace(tzinfo=UTC)


def days_until(not_after: str) -> int:
    """Whole days from now to ``not_after`` (negative once expired)."""
    return (parse_utc(not_after) - datetime.now(UTC)).days


def handshake_failure(exc: BaseException) -> str:
    """Why a handshake or verification failed, in words (no secret is in a TLS alert)."""
    text = str(exc).lower()
    for fragment, reason in (
        ("hostname", "the server certificate does not match the host name"),
        ("does not match", "the server certificate does not match the host name"),
        ("expired", "the server certificate has expired"),
        ("not yet valid", "the server certificate is not yet valid"),
        ("self-signed", "the server certificate is signed by an unknown CA"),
        ("unable to get local issuer", "the server certificate is signed by an unknown CA"),
        ("unknown ca", "the server does not accept the client certificate's CA"),
        ("certificate required", "the server requires a client certificate"),
        # What came back was not TLS (a plain-text server answering the client's hello).
        ("wrong version number", "the server does not speak TLS on this port"),
        ("record layer failure", "the server does not speak TLS on this port"),
        ("verify failed", "the server certificate could not be verified"),
    ):
        if fragment in text:
            return reason
    return "the TLS handshake failed"


def tls_report(mode: str, seen: dict) -> dict:
    """The test result's ``tls`` from what a handshake left in ``seen`` (protocol, der); empty: none."""
    encrypted = bool(seen)
    return {
        "encrypted": encrypted,
        "verified": encrypted and mode in VERIFYING,
        "protocol": seen.get("protocol"),
        "server_certificate": certificate_summary(seen.get("der")),
    }


def recording(context: ssl.SSLContext, seen: dict, hostname: str | None = None) -> ssl.SSLContext:
    """``context`` for a driver that wraps its own sockets: the handshake's version and certificate
    are noted in ``seen``; with ``hostname``, that name is checked whatever address was dialled.
    The handshake may come later than the wrapping (a socket wrapped before it connects)."""

    class _Recorded(ssl.SSLSocket):
        def do_handshake(self, *args, **kwargs):
            super().do_handshake(*args, **kwargs)
            seen.update(protocol=self.version(), der=self.getpeercert(binary_form=True))

    context.sslsocket_class = _Recorded

    class _Recording(ssl.SSLContext):
        def wrap_socket(self, sock, *args, server_hostname=None, **kwargs):
            return context.wrap_socket(sock, *args, server_hostname=hostname or server_hostname, **kwargs)

    wrapper = _Recording(ssl.PROTOCOL_TLS_CLIENT)
    wrapper.check_hostname, wrapper.verify_mode = False, ssl.CERT_NONE  # the inner context decides
    return wrapper
