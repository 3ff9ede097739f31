"""Done means of the scale-out: two gunicorn instances, two workers and beat on PostgreSQL, over
RabbitMQ and over Redis. 2,000 sources are each checked exactly once in a round although a worker
is killed (kill -9) mid-round; the discovery that worker was running is redelivered and finishes,
stored once; one user's connection tests over both gunicorn instances stay within the bound.
"""
import socket
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from tests.production import cluster
from tests.production.stack import Cluster, Gunicorn, manage, prepare, production_env, request, token_for
from tests.support import HEADROOM_SECONDS

pytestmark = pytest.mark.services

SOURCES = 2000
TESTS_PER_USER = 3
# What a claim of a bulk source lasts (connection_timeout 5 + the deadline's grace 1.5 + margin 10),
# plus a tick of beat and one more test: the promise for a source whose worker died.
CLAIM_EXPIRY = 5 + 1.5 + 10
RECOVERY_SECONDS = CLAIM_EXPIRY + 2 + 6.5 + 3 * HEADROOM_SECONDS

BULK = """
from django.utils import timezone
from accounts.models import Organization
from datasources.models import DataSource
org, now, later = Organization.objects.get(name="Acme"), timezone.now(), timezone.now() + timezone.timedelta(days=1)
DataSource.objects.bulk_create([DataSource(
    organization=org, name=f"bulk {{n}}", name_key=f"bulk {{n}}", type="postgresql", host="127.0.0.1",
    port={silent} if n % 2 else {pg}, database_name="rivergen", connection_timeout=1 if n % 2 else 5,
    health_check_interval=3600, health_next_check_at=later, schema_auto_refresh=False,
    credentials={{"username": "postgres", "password": "trust"}}, created_at=now, updated_at=now,
) for n in range({count})], batch_size=500)
"""


@pytest.fixture(params=["rabbitmq", "redis"])
def deployment(request):
    pg = Cluster(max_connections=400)
    broker = None
    processes = []
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4096)  # the kernel completes each handshake; nobody ever answers
    gate = cluster.Gate(pg.port)
    try:
        broker = cluster.Broker(request.param, __file__)
        env = production_env(
            pg.url, CELERY_BROKER_URL=broker.url, DATASOURCES_NETWORK_POLICY="open",
            HEALTH_CHECK_TICK_SECONDS="2", HEALTH_CHECK_CONCURRENCY="50", CELERY_VISIBILITY_TIMEOUT="10",
            DATASOURCES_TESTS_PER_USER=str(TESTS_PER_USER), DATABASE_POOL_MAX="4", DATABASE_POOL_MIN="1",
            LOG_LEVEL="INFO",
        )
        org = prepare(env)
        manage(env, "shell", "-c", BULK.format(silent=silent.getsockname()[1], pg=pg.port, count=SOURCES))
        processes += [Gunicorn(env, workers=1, threads=8), Gunicorn(env, workers=1, threads=8)]
        processes += [cluster.worker(env, "one"), cluster.worker(env, "two")]
        processes.append(cluster.beat(env, tempfile.mkdtemp(prefix="rg-cluster-beat-")))
        yield {"pg": pg, "env": env, "org": org, "silent": silent.getsockname()[1], "gate": gate,
               "web": processes[:2], "workers": processes[2:4]}
    finally:
        for process in reversed(processes):
            process.close() if isinstance(process, Gunicorn) else process.stop()
        gate.close()
        silent.close()
        if broker is not None:
            broker.remove()
        pg.remove()


def sql(pg, query, *args):
    with psycopg.connect(pg.url.replace("postgres://", "postgresql://")) as conn:
        return conn.execute(query, args).fetchall()


def create(web, token, workspace_id, name, **fields):
    body = {"name": name, "type": "postgresql", "host": "127.0.0.1", "database_name": "rivergen",
            "workspace_id": workspace_id, "credentials": {"username": "postgres", "password": "trust"}, **fields}
    status, _, answer = request(web.url("/api/v1/data-sources"), body, token=token)
    assert status == 201, answer
    return answer["data"]["id"]


def test_a_deployment_checks_each_source_once_survives_a_killed_worker_and_bounds_tests(deployment):
    pg, web, workers, gate = deployment["pg"], deployment["web"], deployment["workers"], deployment["gate"]
    for server in web:  # both instances reach the database and this broker
        assert request(server.url("/readyz"))[:3:2] == (200, {"status": "ok", "checks": {"database": "ok",
                                                                                         "broker": "ok"}})
    token = token_for(web[0])
    workspace_id = deployment["org"]["workspaces"][0]["id"]

    # One user's tests, spread over both gunicorn instances, stay within the bound.
    probe = create(web[0], token, workspace_id, "probe", port=deployment["silent"], connection_timeout=3)
    url = f"/api/v1/data-sources/{probe}/test-connection"
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda n: request(web[n % 2].url(url), {}, token=token)[0], range(8)))
    assert statuses.count(200) <= TESTS_PER_USER and statuses.count(200) + statuses.count(429) == 8, statuses
    assert statuses.count(429) >= 8 - TESTS_PER_USER  # per process, each instance would have let 3 through

    # A discovery that hangs on its connection (the gate holds it) is running on one worker.
    held = create(web[1], token, workspace_id, "held", port=gate.port, connection_timeout=20, query_timeout=5,
                  schema_auto_refresh=False)
    status, _, answer = request(web[1].url(f"/api/v1/data-sources/{held}/discover-schema"), {}, token=token)
    assert status == 202, answer
    discovery_id = answer["data"]["discovery_id"]
    assert wait(lambda: sql(pg, "SELECT status FROM datasources_discovery WHERE id = %s", discovery_id)[0][0]
                == "running", 30)
    victim = next(w for w in workers if f"discover_schema[" in w.output())
    survivor = workers[1 - workers.index(victim)]

    # A round of 2,000 sources; the worker running the discovery is killed a few hundred checks in.
    sql_update(pg, "UPDATE datasources_datasource SET health_next_check_at = now() WHERE name LIKE 'bulk %%'")
    started = time.time()
    assert wait(lambda: checked(pg)[0] >= 300, 60), checked(pg)
    victim.kill()
    killed_at, after_kill = time.time(), checked(pg)[0]
    gate.open = True  # from now on the discovery's database answers
    assert after_kill < SOURCES, "the round ended before the kill; nothing was tested"
    done = wait(lambda: checked(pg)[0] >= SOURCES, RECOVERY_SECONDS)
    time.sleep(3)  # a source checked twice would show up now
    sources, checks = checked(pg)
    assert done and (sources, checks) == (SOURCES, SOURCES), (sources, checks, after_kill)
    last = sql(pg, "SELECT extract(epoch FROM max(checked_at)) FROM datasources_healthcheck "
                   "WHERE trigger = 'scheduled'")[0][0]
    print(f"round: {SOURCES} sources in {float(last) - started:.1f} s, {after_kill} checked before the kill, "
          f"all checked {float(last) - killed_at:.1f} s after it")

    # The killed worker's discovery is redelivered to the other one, which takes over once the claim expires.
    assert wait(lambda: sql(pg, "SELECT status FROM datasources_discovery WHERE id = %s", discovery_id)[0][0]
                in ("succeeded", "failed"), 90), survivor.output()[-3000:]
    status, tables = sql(pg, "SELECT status, table_count FROM datasources_discovery WHERE id = %s", discovery_id)[0]
    assert status == "succeeded" and tables > 10, survivor.output()[-3000:]
    stored = sql(pg, "SELECT count(*) FROM datasources_schematable WHERE data_source_id = %s", held)[0][0]
    assert stored == tables  # stored once
    assert f"discover_schema[" in survivor.output()


def checked(pg) -> tuple[int, int]:
    """(sources with a scheduled check, scheduled checks) of the bulk sources."""
    return tuple(sql(pg, "SELECT count(DISTINCT c.data_source_id), count(*) FROM datasources_healthcheck c "
                         "JOIN datasources_datasource s ON s.id = c.data_source_id "
                         "WHERE c.trigger = 'scheduled' AND s.name LIKE 'bulk %%'")[0])


def sql_update(pg, query):
    with psycopg.connect(pg.url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(query)


def wait(predicate, seconds: float, step: float = 0.5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
