"""gunicorn's settings for `make serve`, from the environment (gunicorn reads this file from the cwd).

Threads, not processes, carry the concurrency: connection tests and uploads wait on I/O, and
each process keeps one database pool (DATABASE_POOL_MAX) shared by its threads.
"""
import os

# Production never reads the development .env that `make run` writes (see rivergen/settings.py).
os.environ.setdefault("DOTENV_FILE", "")

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_WORKERS", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
worker_class = "gthread"
timeout = int(os.environ.get("WEB_TIMEOUT", "120"))  # seconds a request may run before its worker is restarted
graceful_timeout = 30
keepalive = 5
# Trust X-Forwarded-* only from the proxy in front (comma-separated addresses; gunicorn's default is 127.0.0.1).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
wsgi_app = "rivergen.wsgi:application"


def post_worker_init(worker):
    """Load the views, then move the loaded application out of the collector's way: otherwise a
    full collection now and then walks the whole of Django's heap inside some request (60-80 ms
    measured on a 10 ms catalogue page; bench/discovery.py's API figures use the same freeze)."""
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every view module now, not in a first request
    gc.freeze()
