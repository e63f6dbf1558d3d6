# erpbridge: the two commands are `make demo` and `make test`. Both need only python3.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: demo test test-fast test-browser lint format install clean

# A fresh virtualenv with the locked dependencies and erpbridge itself (editable).
$(PY):
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): requirements.lock pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(INSTALLED)

install: $(INSTALLED)

## Prepare a demo database, print the demo users, run the web server and a qcluster.
demo: install
	$(PY) -m erpbridge.demo

## The whole suite: everything but browser tests, then browser tests in their own run
## (Playwright and async tests do not share a pytest session well).
test: install
	$(PY) -m pytest
	@$(PY) -m pytest -m browser -q; status=$$?; \
	  if [ $$status -eq 5 ]; then echo "no browser tests"; exit 0; fi; exit $$status

test-fast: install
	$(PY) -m pytest -q -x

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
