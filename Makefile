# Developer entry points.  README's test command is `make test`; .ci/run calls it.
PYTHON ?= $(shell command -v python3 || command -v python)
RENDERER := deploy/chart-renderer

.PHONY: install test

install:
	$(PYTHON) -m pip install -e '.[test]'
	@if [ -f $(RENDERER)/package.json ]; then npm ci --prefix $(RENDERER) --no-audit --no-fund; fi

test:
	$(PYTHON) -m pytest -q
