# The README's two commands: `make demo` and `make test`.  Each sets up what it needs first
# (scripts/setup.sh: Debian packages, .venv, the chart renderer's npm packages).
PYTHON := .venv/bin/python

.PHONY: setup demo test bench lint

setup:
	@bash scripts/setup.sh

demo: setup
	$(PYTHON) -m codex_bot demo --out demo-out

test: setup
	$(PYTHON) -m pytest -q

bench: setup
	$(PYTHON) bench/run_all.py

# Lint and type check: ruff (rules and format in pyproject.toml), mypy with the pydantic plugin, and the layer rule.
lint: setup
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy codex_bot
	$(PYTHON) scripts/import_layers.py --fail
