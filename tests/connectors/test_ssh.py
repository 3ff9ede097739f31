
import pytest

from datasources.connectors import connector_for
from tests.conftest import need
from tests.support import finishes_within, settled_within
from tests.support.servers import (
    connector_error,
    free_port,
    make_source,
    port_open,
)

pytestmark = pytest.mark.loopback  # refused ports and silent listeners; the tests that reach a server say so

PG = {"host": "127.0.0.1", "port": 5432, "database_name": "postgres"}


def tunnelled(sshd, type_name="postgresql", fields=PG, **credentials):
    return make_source(type_name, **fields, **sshd.fields(), credentials={"username": "postgres", **credentials})


def behind(hidden_redis, **credentials):
    """A Redis source whose server only the namespaced sshd can reach (see tests/support/netns.py)."""
    return make_source("redis", host="127.0.0.1", port=hidden_redis.redis_port, database_name="0",
                       **hidden_redis.fields(), credentials=credentials)


def redis_version_through(source) -> str:
    return connector_for("redis")().test(source).server_version


@pytest.mark.services
def test_the_hidden_server_is_not_reachable_directly(hidden_redis):
    direct = make_source("redis", host="127.0.0.1", port=hidden_redis.redis_port, database_name="0")
    assert connector_error(direct).code == "HOST_UNREACHABLE"


@pytest.mark.services
def test_a_key_opens_the_tunnel_to_a_server_only_the_ssh_server_reaches(sshd, hidden_redis):
    assert redis_version_through(behind(hidden_redis, ssh_private_key=sshd.keys["plain"]))[0].isdigit()


@pytest.mark.services
def test_a_password_opens_the_tunnel_to_a_server_only_the_ssh_server_reaches(sshd, hidden_redis):
    assert redis_version_through(behind(hidden_redis, ssh_password=sshd.password))[0].isdigit()


@pytest.mark.services
def test_a_key_with_its_passphrase_opens_the_tunnel(sshd, hidden_redis):
    source = behind(hidden_redis, ssh_private_key=sshd.keys["protected"], ssh_passphrase="s3cret-phrase")
    assert redis_version_through(source)[0].isdigit()


@pytest.mark.services
def test_postgres_answers_through_a_tunnel(sshd, postgres):
    outcome = connector_for("postgresql")().test(tunnelled(sshd, ssh_private_key=sshd.keys["plain"]))
    assert outcome.server_version.split(".")[0].isdigit()


@pytest.mark.services
def test_wrong_passphrase_is_auth_failed(sshd):
    error = connector_error(tunnelled(sshd, ssh_private_key=sshd.keys["protected"], ssh_passphrase="not-it"))
    assert error.code == "AUTH_FAILED"
    assert "not-it" not in error.message


@pytest.mark.services
def test_encrypted_key_without_passphrase_is_auth_failed(sshd):
    assert connector_error(tunnelled(sshd, ssh_private_key=sshd.keys["protected"])).code == "AUTH_FAILED"


@pytest.mark.services
def test_wrong_ssh_password_is_auth_failed_without_the_password(sshd):
    error = connector_error(tunnelled(sshd, ssh_password="Wrong-ssh-pw"))
    assert error.code == "AUTH_FAILED"
    assert "Wrong-ssh-pw" not in error.message


@pytest.mark.services
def test_discovery_through_the_tunnel(sshd, pg_scratch_schema):
    tables = connector_for("postgresql")().discover(
        make_source(**PG, **sshd.fields(), schema_name=pg_scratch_schema,
                    credentials={"username": "postgres", "ssh_private_key": sshd.keys["plain"]}))
    assert {t.name for t in tables} == {"orders", "lines", "big_orders"}


@pytest.mark.services
def test_mariadb_and_redis_through_the_tunnel(sshd):
    need(port_open(3306) and port_open(6379), "MariaDB and Redis")
    key = {"ssh_private_key": sshd.keys["plain"]}
    mysql = make_source("mariadb", host="127.0.0.1", port=3306, database_name="test", **sshd.fields(),
                        credentials={"username": "root", **key})
    redis = make_source("redis", host="127.0.0.1", port=6379, database_name="0", **sshd.fields(), credentials=key)
    assert connector_for("mariadb")().test(mysql).server_version
    assert connector_for("redis")().test(redis).server_version


@pytest.mark.services
def test_database_the_ssh_server_cannot_reach_is_host_unreachable(sshd):
    source = make_source(host="127.0.0.1", port=free_port(), database_name="postgres", **sshd.fields(),
                         credentials={"username": "postgres", "ssh_private_key": sshd.keys["plain"]})
    assert connector_error(source).code == "HOST_UNREACHABLE"


def test_refused_ssh_port_is_host_unreachable():
    source = make_source(**PG, use_ssh_tunnel=True, ssh_host="127.0.0.1", ssh_port=free_port(), ssh_username="u",
                         credentials={"ssh_password": "x"})
    assert connector_error(source).code == "HOST_UNREACHABLE"


def test_silent_ssh_server_times_out_within_the_deadline(silent):
    source = make_source(**PG, use_ssh_tunnel=True, ssh_host="127.0.0.1", ssh_port=silent.port, ssh_username="u",
                         credentials={"ssh_password": "x"}, connection_timeout=1)
    with finishes_within(1):
        assert connector_error(source).code == "TIMEOUT"


@pytest.mark.services
def test_silent_database_behind_the_tunnel_times_out_within_the_deadline(sshd, silent):
    source = make_source(host="127.0.0.1", port=silent.port, database_name="db", **sshd.fields(), connection_timeout=2,
                         credentials={"username": "u", "ssh_private_key": sshd.keys["plain"]})
    with finishes_within(2):
        assert connector_error(source).code == "TIMEOUT"


@pytest.mark.services
def test_chosen_local_port_is_used_and_released(sshd, postgres):
    local = free_port()
    source = make_source(**PG, **{**sshd.fields(), "ssh_local_port": local},
                         credentials={"username": "postgres", "ssh_private_key": sshd.keys["plain"]})
    assert connector_for("postgresql")().test(source).server_version
    # The forwarder's thread closes its listener as it ends: the tunnel is torn down promptly.
    assert not settled_within(3, lambda: port_open(local))


@pytest.mark.services
def test_taken_local_port_is_local_port_in_use(sshd, silent):
    source = make_source(**PG, **{**sshd.fields(), "ssh_local_port": silent.port},
                         credentials={"username": "postgres", "ssh_private_key": sshd.keys["plain"]})
    assert connector_error(source).code == "LOCAL_PORT_IN_USE"


def host_key_line(sshd) -> str:
    return (sshd.root / "hostkey.pub").read_text().strip()


@pytest.mark.services
def test_pinned_host_key_that_matches_opens_the_tunnel(sshd, postgres):
    source = tunnelled(sshd, ssh_password=sshd.password, ssh_host_key=host_key_line(sshd))
    assert connector_for("postgresql")().test(source).server_version


@pytest.mark.services
def test_pinned_fingerprint_that_matches_opens_the_tunnel(sshd, postgres):
    import subprocess

    printed = subprocess.run(["ssh-keygen", "-lf", str(sshd.root / "hostkey.pub")],
                             capture_output=True, text=True, check=True).stdout
    fingerprint = printed.split()[1]
    assert fingerprint.startswith("SHA256:")
    source = tunnelled(sshd, ssh_password=sshd.password, ssh_host_key=fingerprint)
    assert connector_for("postgresql")().test(source).server_version


@pytest.mark.services
def test_other_host_key_is_refused_before_the_password_is_sent(sshd, tmp_path):
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "other")], check=True)
    other = (tmp_path / "other.pub").read_text()
    error = connector_error(tunnelled(sshd, ssh_password=sshd.password, ssh_host_key=other))
    assert error.code == "SSH_HOST_KEY_MISMATCH"
    assert sshd.password not in error.message
