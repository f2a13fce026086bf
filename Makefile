# weft — the two commands of the quick start are `make up` and `make test`.
# Each does its own set-up: venv, Python packages, system packages (as root,
# through apt), dockerd and MariaDB when none answers, images built offline.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
WEFT   := $(VENV)/bin/weft
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: help up down test lint typecheck unit images system clean venv devvenv

help:
	@echo "make up     start the world stack (database + search API) and print where it is"
	@echo "make down   remove everything make up created"
	@echo "make test   lint, type-check and run every test (real Docker, real MariaDB)"

# `make up` needs weft and what it runs on; the test tools (pytest, mypy, ruff,
# schemathesis, ...) come in only with `make test`, so a newcomer's first
# `make up` does not wait for them.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { \
	  echo "weft: cannot create a venv: install python3-venv (apt-get install python3-venv)" >&2; exit 1; }
	$(PY) -m pip install -q --upgrade pip 'setuptools>=77' wheel
	$(PY) -m pip install -q -e .
	@touch $@

$(DEVSTAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

venv: $(STAMP)

devvenv: $(DEVSTAMP)

system:
	@bash scripts/ensure-system.sh docker

images: venv system
	$(WEFT) images build

up: images
	$(WEFT) world up

down: venv
	$(WEFT) world down

lint: devvenv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: devvenv
	$(VENV)/bin/mypy

test: devvenv
	@bash scripts/ensure-system.sh docker mariadb postgres chromium cluster
	$(WEFT) images build
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

clean: down
	rm -rf $(VENV) build *.egg-info
