"""Settings for the test suite: fixed keys, fast hashing, files in a scratch folder."""
import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("CRYPTOGRAPHY_KEY", "test-cryptography-key-not-for-production")
# Tests share throttle counters in one process; tests of throttling set their own rate.
os.environ.setdefault("API_WRITE_THROTTLE_RATE", "")
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="rivergen-media-"))

from rivergen.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Background jobs run inline; a new source is not tested on create unless a test turns it on
# (creates in other tests use unreachable example hosts).
CELERY_TASK_ALWAYS_EAGER = True
DATASOURCES_CHECK_NEW_SOURCES = False

# Production's default. Tests that reach a server on loopback say so (the services or loopback
# marker) and run under "open"; tests/conftest.py applies it, and hands it to the processes such
# a test starts (a Celery worker) through RIVERGEN_TEST_NETWORK_POLICY.
DATASOURCES_NETWORK_POLICY = os.environ.get("RIVERGEN_TEST_NETWORK_POLICY", "private")
