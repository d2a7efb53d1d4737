# Shopadmin — the two set-up commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev services browser lint format requirements migrate bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install -q -r requirements.txt -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: install, migrate, seed the demo shop, start web + worker + scheduler (SQLite, file broker)
run: install
	HOST=$(HOST) PORT=$(PORT) scripts/run.sh

## make test: install, start PostgreSQL and Redis if needed, lint, run the whole suite
test: install-dev services browser lint
	scripts/test.sh

services:
	scripts/ensure-services.sh

browser:
	scripts/ensure-browser.sh

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## make requirements: re-pin requirements*.txt from requirements*.in
requirements: install-dev
	$(BIN)/pip-compile -q --strip-extras --no-header --no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in
	$(BIN)/pip-compile -q --strip-extras --no-header --no-emit-index-url --no-emit-find-links -o requirements-dev.txt requirements-dev.in

## make bench: every benchmark under bench/, JSON on stdout (needs `make services`)
bench: install-dev services
	scripts/bench.sh

clean:
	rm -rf var db.sqlite3* staticfiles .pytest_cache
