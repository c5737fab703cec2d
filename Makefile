# SAAT book and saatlib: one entry point for set-up, tests and the book.
#
#   make book     set up, execute every chapter in _toc.yml, render _build/html
#   make test     set up, run the test suite (pytest)
#   make lab      set up, open copies of the chapters live in JupyterLab
#
# Set-up is stamp-guarded: a second run skips what is already done.
#   .venv/.installed-stamp  pip deps + editable saatlib + Jupyter kernel
#                           (remade when pyproject.toml or this Makefile change)
#   .venv/.apt-stamp        Debian packages: dataset-fashion-mnist, chromium
#                           (only where apt-get exists; NO_APT=1 skips it)
#   .venv/.vendor-stamp     MathJax, require.js and the ipywidgets renderer from
#                           npm, so the HTML pages load nothing from a CDN
#                           (needed by `make html` only)
#
# Variables: PROFILE=smoke|default|paper (default: $SAAT_PROFILE, else default),
#            FORCE=1 (re-execute chapters even when up to date),
#            LAB_PORT=8888, RESET=1 (make lab: copy the chapters to lab/ afresh),
#            TEST_TIMEOUT=600 (seconds per test), PYTEST_ARGS=..., PYTHON=python3.11

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
APT_STAMP := $(VENV)/.apt-stamp
VENDOR := $(VENV)/share/saat-book/vendor
VENDOR_STAMP := $(VENV)/.vendor-stamp

PROFILE ?= $(if $(SAAT_PROFILE),$(SAAT_PROFILE),default)
TEST_TIMEOUT ?= 600
PYTEST_ARGS ?=
FORCE ?=
NO_APT ?=
LAB_PORT ?= 8888
RESET ?=

# Keep these pins in step with environment.yml (tests/test_repo_hygiene.py checks).
# JupyterLab 4 goes with ipywidgets 8 (jupyterlab_widgets 3); playwright drives
# the system Chromium in the browser tests (it never downloads a browser here).
PIP_PINS := torch==2.14.1 torchvision==0.29.1 jupyter-book==1.0.4.post1 \
	papermill ipykernel ipywidgets matplotlib seaborn tqdm \
	jupyterlab>=4,<5 \
	pytest pytest-timeout hypothesis nbformat playwright

# Papermill and the tests find the venv's own python3 kernel first.
export JUPYTER_PATH := $(abspath $(VENV))/share/jupyter

.PHONY: help setup book chapters html lab test bench lint clean distclean

help:
	@echo "make book       set up, execute chapters (PROFILE=$(PROFILE)), render _build/html/index.html"
	@echo "make test       set up, run pytest"
	@echo "make lab        set up, open copies of the chapters (lab/) in JupyterLab (PROFILE=$(PROFILE))"
	@echo "make chapters   execute chapters only, into _build/executed/"
	@echo "make html       render only, from the executed chapters"
	@echo "make bench      metrics speed (MAP vs loop, packed memory) and attack iterations/s vs a reference loop"
	@echo "make lint       syntax check of the Python sources"
	@echo "make setup      only the set-up (venv, pip deps, kernel, Debian packages)"
	@echo "make clean      remove _build/ ;  make distclean also removes .venv/"

# --- set-up -------------------------------------------------------------------

setup: $(STAMP) $(APT_STAMP)

$(PY):
	@test -n "$(PYTHON)" || { echo "error: no python3.11 (or python3) on PATH" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml Makefile | $(PY)
	$(PY) -m pip install $(foreach pin,$(PIP_PINS),'$(pin)') -e '.[book,test]'
	$(PY) -m ipykernel install --prefix "$(abspath $(VENV))" --name python3 --display-name "Python 3 (saat .venv)"
	$(PY) -c "import torch, torchvision, saatlib, papermill, jupyter_book; print('set-up ok: torch', torch.__version__)"
	@touch $@

# Debian packages. Missing apt-get, or a failing install, is a warning, never an
# error: the data code falls back to torchvision's download, and the browser
# tests skip without Chromium. The stamp is written only when all went well.
$(APT_STAMP): Makefile | $(PY)
	@set -u; \
	if [ -n "$(NO_APT)" ]; then echo "apt: skipped (NO_APT set)"; exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then echo "apt: no apt-get here; skipping Debian packages"; exit 0; fi; \
	sudo=""; \
	if [ "$$(id -u)" != 0 ]; then \
	  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	  else echo "apt: warning: not root and no password-less sudo; skipping Debian packages" >&2; exit 0; fi; \
	fi; \
	pkgs=""; \
	[ -d /usr/share/datasets/fashion-mnist ] || pkgs="$$pkgs dataset-fashion-mnist"; \
	command -v chromium >/dev/null 2>&1 || pkgs="$$pkgs chromium"; \
	if [ -z "$$pkgs" ]; then echo "apt: dataset-fashion-mnist and chromium already present"; touch $@; exit 0; fi; \
	echo "apt: installing$$pkgs"; \
	if $$sudo apt-get update -q && \
	   DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends $$pkgs; then \
	  touch $@; \
	else \
	  echo "apt: warning: could not install$$pkgs (continuing; will retry next run)" >&2; \
	fi

# JavaScript that the pages would otherwise load from CDNs (see scripts/vendor_js.py).
$(VENDOR_STAMP): scripts/vendor_js.py | $(PY)
	$(PY) scripts/vendor_js.py --dest $(VENDOR)
	@touch $@

# --- book ---------------------------------------------------------------------

book: setup
	$(MAKE) --no-print-directory chapters html PROFILE=$(PROFILE)

# Execute every notebook chapter listed in _toc.yml with papermill
# (-p profile $(PROFILE)) into _build/executed/, skipping up-to-date ones.
chapters: setup
	$(PY) scripts/run_chapters.py --profile "$(PROFILE)" --out _build/executed $(if $(FORCE),--force,)

# Stage _config.yml, _toc.yml, book/ (without notebooks), the executed
# notebooks and the vendored JavaScript (as _vendor/vendor) into _build/src,
# then render them with jupyter-book (execution off in _config.yml, warnings
# are errors). --path-output is the repo root, so
# jupyter-book writes _build/html (and _build/.doctrees). The source tree
# itself is never written to.
html: setup $(VENDOR_STAMP)
	$(PY) scripts/stage_book.py --executed _build/executed --dest _build/src --vendor $(VENDOR)
	$(VENV)/bin/jupyter-book build _build/src --path-output "$(CURDIR)" -W --keep-going --builder html
	@echo "book: $(abspath _build/html/index.html)"

# JupyterLab on 127.0.0.1 at the repository root, on copies of the chapters in
# lab/ (git-ignored; kept between runs unless RESET=1), the venv's kernel,
# SAAT_PROFILE=$(PROFILE) for every chapter's parameters cell (scripts/lab.py).
lab: setup
	SAAT_PROFILE="$(PROFILE)" $(PY) scripts/lab.py --port $(LAB_PORT) $(if $(RESET),--reset,)

# --- tests and checks -----------------------------------------------------------

# pytest exits 5 when it collected no test: for us that is a bug, so it stays a
# failure (non-zero), with a message saying why.
# The browser test needs the vendored JavaScript; without npm it skips (with a warning here).
test: setup
	@$(MAKE) --no-print-directory $(VENDOR_STAMP) || \
	  echo "warning: could not vendor the book's JavaScript (npm); the browser test will skip" >&2
	@echo "$(PY) -m pytest -q --timeout=$(TEST_TIMEOUT) $(PYTEST_ARGS)"
	@rc=0; $(PY) -m pytest -q --timeout=$(TEST_TIMEOUT) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest ran no test (exit 5); treated as a failure" >&2; fi; \
	exit $$rc

bench: setup
	$(PY) bench/metrics_bench.py
	$(PY) bench/attack_bench.py

lint: setup
	$(PY) -m compileall -q saatlib scripts tests $(wildcard bench)

# --- cleaning -------------------------------------------------------------------

clean:
	rm -rf _build .pytest_cache

distclean: clean
	rm -rf $(VENV)
