# The targets the README names. `make run` and `make test` set everything up first (idempotent, cached).
PY := .venv/bin/python

.PHONY: setup run test test-e2e lint typecheck bench clean-runtime

setup:
	scripts/setup

run: setup
	$(PY) app.py run

test: setup
	$(PY) -m pytest

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: setup
	.venv/bin/mypy

# Remove the cached Asterisk runtime root; the next `make setup` rebuilds it.
clean-runtime:
	rm -rf "$${XDG_CACHE_HOME:-$$HOME/.cache}/hotline95598/asterisk-root"
