"""A PostgreSQL server that really checks passwords (SCRAM), for the wrong-password paths.

The machine's PostgreSQL trusts every local login, so a wrong password cannot fail there.
"""
import secrets

import pytest

from tests.support.clusters import ThrowawayPostgres


@pytest.fixture(scope="session")
def password_postgres():
    cluster = ThrowawayPostgres(password=secrets.token_urlsafe(16), prefix="rg-scram-pg-")
    try:
        yield cluster
    finally:
        cluster.remove()
