# The two front doors: `make run` and `make test`. Nothing but Python 3.11 is needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PORT ?= 8000
MANAGE := $(VENV)/bin/python manage.py

PIP := $(VENV)/bin/python -m pip install -q --disable-pip-version-check

.PHONY: run serve test fuzz install install-dev migrate clean

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PIP) -r requirements.txt
	touch $@

# Test-only packages (pytest, moto's server) on top of the runtime ones.
$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PIP) -r requirements-dev.txt
	touch $@

# Local keys for development, made once; the environment overrides them.
.env:
	$(PYTHON) -c "import secrets; print('DEBUG=true'); print('SECRET_KEY=' + secrets.token_urlsafe(50)); print('CRYPTOGRAPHY_KEY=' + secrets.token_urlsafe(50))" > .env
	chmod 600 .env

migrate: install .env
	$(MANAGE) migrate --noinput

# A Celery worker (with beat, for scheduled schema refresh) runs beside the web server and is
# stopped when the server stops; it consumes every queue (rivergen/celery.py). Background jobs in a non-interactive shell ignore Ctrl-C, hence the trap.
run: migrate
	mkdir -p .local
	$(MANAGE) ensure_admin
	$(VENV)/bin/celery -A rivergen worker --beat --schedule .local/celerybeat-schedule \
		--concurrency 2 --loglevel INFO & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(MANAGE) runserver 127.0.0.1:$(PORT)

# Production: gunicorn (gthread) serves the app and WhiteNoise its static files; Celery workers
# and beat run as separate processes. Settings come from the environment only (README, "Production"):
# the development .env that `make run` writes is ignored (DOTENV_FILE empty), and a missing SECRET_KEY
# stops it. WORKER_QUEUES lists one worker per entry, each entry the queues it consumes: the default is
# one worker on every queue; e.g. WORKER_QUEUES="checks discovery webhooks,default" gives each kind of
# job workers of its own.
WORKER_QUEUES ?= checks,discovery,webhooks,default
PROD := DOTENV_FILE=
serve: install
	mkdir -p .local
	@if [ -f .env ]; then echo "make serve: ignoring .env (make run's development settings); settings come from the environment."; fi
	$(PROD) $(MANAGE) migrate --noinput
	$(PROD) $(MANAGE) collectstatic --noinput -v 0
	pids=; \
	for queues in $(WORKER_QUEUES); do \
		$(PROD) $(VENV)/bin/celery -A rivergen worker -Q $$queues -n "$${queues%%,*}@%h" \
			--concurrency $${WORKER_CONCURRENCY:-4} --loglevel INFO & pids="$$pids $$!"; \
	done; \
	$(PROD) $(VENV)/bin/celery -A rivergen beat --schedule .local/celerybeat-schedule --loglevel INFO & pids="$$pids $$!"; \
	trap 'kill $$pids 2>/dev/null; wait $$pids' EXIT INT TERM; \
	$(PROD) $(VENV)/bin/gunicorn

test: install-dev
	mkdir -p .local
	$(VENV)/bin/python -m pytest

# The API fuzzed with a fresh random seed each run (make test keeps the fixed one); the seed is
# printed first, and SEED=<it> make fuzz replays the same run.
fuzz: install-dev
	mkdir -p .local
	@seed=$${SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; \
	echo "make fuzz: seed $$seed (replay: SEED=$$seed make fuzz)"; \
	FUZZ_SEED=$$seed $(VENV)/bin/python -m pytest -p no:cacheprovider -q -s tests/api/test_fuzz.py

clean:
	rm -rf $(VENV) .local db.sqlite3 db.sqlite3-shm db.sqlite3-wal
