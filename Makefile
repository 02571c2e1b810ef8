# The targets the README names. `make run` and `make test` set everything up first (idempotent, cached).
PY := .venv/bin/python

.PHONY: setup run test test-e2e lint typecheck bench clean-runtime

setup:
	scripts/setup

run: setup
	$(PY) app.py run

# The crm tests run on SQLite and on PostgreSQL: scripts/test-postgres starts the local cluster and prints its URL.
# The end-to-end tests spend most of their time waiting for calls, not computing: TEST_WORKERS processes, each with
# its own hotline, take whole test files in turn (docs/decisions.md, "The test bed").
TEST_WORKERS ?= 4
test: setup
	url=$$(scripts/test-postgres) && HOTLINE_TEST_POSTGRES_URL="$$url" $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: setup
	.venv/bin/mypy

# Remove the cached Asterisk runtime root; the next `make setup` rebuilds it.
clean-runtime:
	rm -rf "$${XDG_CACHE_HOME:-$$HOME/.cache}/hotline95598/asterisk-root"
