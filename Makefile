# Two commands set everything up on a fresh machine (Python 3.11+):
#   make run    create .venv, install relman, open the app (on a demo registry if none is set up)
#   make test   create .venv, install relman with its test tools, run lint and every test
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	# Byte-compile up front: with PYTHONDONTWRITEBYTECODE set (as on CI), every start
	# would otherwise compile relman's sources again.
	$(BIN)/python -m compileall -q relman
	touch $(STAMP)

# With no registry profile configured yet, the app opens on a freshly made demo registry.
run: $(STAMP)
	$(BIN)/relman demo --if-no-profile
	$(BIN)/relman

test: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/test.sh

lint: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/lint.sh

bench: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" python -m pytest tests/benchmarks -p no:cacheprovider -s -q

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
