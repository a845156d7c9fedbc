# RPMS 责任规划师管理信息系统 — developer entry points.
#
#   make run    system packages, .venv, pinned dependencies, migrate, demo data, serve on $(HOST):$(PORT)
#   make test   system packages, .venv, runtime + test dependencies, the whole test suite
#
# Environment: HOST, PORT, DATABASE_URL (default: SQLite at var/db.sqlite3), PYTHON (interpreter used to
# create .venv, 3.11+), PYTEST_ARGS (extra pytest arguments), SKIP_SYSDEPS=1 (skip the apt check).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# The suite runs on two processes (pytest-xdist; this machine and CI have 2 cores). TEST_WORKERS=0 runs it in one.
TEST_WORKERS ?= 2

VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check --no-input
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev

# Fonts for Chinese text in PDFs; pango >= 1.44 (with harfbuzz-subset) for WeasyPrint 70.
SYSDEPS := fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
# The browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
TEST_SYSDEPS := chromium

.PHONY: help run test sysdeps test-sysdeps venv deps deps-dev migrate seed serve test-pg clean

help:
	@echo "make run      安装依赖、迁移数据库、导入演示数据并启动 http://$(HOST):$(PORT)"
	@echo "make test     安装测试依赖并运行全部测试 (SQLite, or DATABASE_URL)"
	@echo "make test-pg  在临时 PostgreSQL 15 集群上运行全部测试 (like CI)"
	@echo "helpers:      sysdeps venv deps deps-dev migrate seed serve clean"

run: sysdeps deps migrate seed serve

# The test settings are forced so that an exported DJANGO_SETTINGS_MODULE (e.g. local) cannot leak in.
# lint-imports first: an upward import between the apps (pyproject.toml [tool.importlinter]) fails at once.
test: sysdeps test-sysdeps deps-dev
	$(VENV)/bin/lint-imports
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-pg:
	scripts/with-postgres.sh $(MAKE) --no-print-directory test

sysdeps:
	@scripts/sysdeps.sh $(SYSDEPS)

test-sysdeps:
	@scripts/sysdeps.sh $(TEST_SYSDEPS)

venv: $(PY)

$(PY):
	scripts/venv.sh "$(PYTHON)" "$(VENV)"

deps: $(RUNTIME_STAMP)

deps-dev: $(DEV_STAMP)

$(RUNTIME_STAMP): requirements.txt | $(PY)
	$(PIP) install -r requirements.txt
	touch $@

$(DEV_STAMP): requirements-dev.txt $(RUNTIME_STAMP)
	$(PIP) install -r requirements-dev.txt
	touch $@

migrate: deps
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

serve: deps
	$(PY) manage.py runserver "$(HOST):$(PORT)"

# Removes the virtualenv and caches; the database and uploads under var/ are kept.
clean:
	rm -rf $(VENV) .pytest_cache
	find . -path ./var -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
