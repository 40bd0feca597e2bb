# Two set-up commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py

test: $(STAMP)
	$(PY) -m ruff check retrograd tests bench examples
	$(PY) -m pytest -n 2 -q

lint: $(STAMP)
	$(PY) -m ruff check retrograd tests bench examples
	$(PY) -m ruff format --check retrograd tests bench examples

format: $(STAMP)
	$(PY) -m ruff format retrograd tests bench examples
	$(PY) -m ruff check --fix retrograd tests bench examples

bench: $(STAMP)
	$(PY) bench/overhead.py

clean:
	rm -rf $(VENV) build *.egg-info
