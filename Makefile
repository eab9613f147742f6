PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: install test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python  ## a venv with derive and its test tools
	$(BIN)/pip install -q -e '.[test]'

test: install  ## the whole suite (a couple of minutes on 2 cores)
	$(BIN)/python -m pytest

lint: install
	$(BIN)/pip install -q ruff
	$(BIN)/ruff check derive tests bench

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis .ruff_cache
