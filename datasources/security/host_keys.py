"""SSH host-key pinning: ``credentials.ssh_host_key`` names the key the SSH server must present.

It takes what people have at hand: an OpenSSH public key line (``ssh-ed25519 AAAA… comment``),
a known_hosts line (``host ssh-ed25519 AAAA…``) or a fingerprint as ``ssh-keygen -lf`` prints
it (``SHA256:…``). All compare by SHA-256 fingerprint.
"""
import base64
import binascii
import hashlib
import re

FINGERPRINT = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}=?$")
KEY_TYPES = re.compile(r"^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-\S+)$")


def fingerprint_of_blob(blob: bytes) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def pinned_fingerprint(value: str) -> str | None:
    """The SHA256 fingerprint ``value`` pins, or None when it is not a key or fingerprint we read."""
    value = value.strip()
    if FINGERPRINT.match(value):
        return value.rstrip("=")
    words = value.split()
    for index, word in enumerate(words[:-1]):
        if KEY_TYPES.match(word):
            try:
                return fingerprint_of_blob(base64.b64decode(words[index + 1], validate=True))
            except (binascii.Error, ValueError):
                return None
    return None
