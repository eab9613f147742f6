PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: install oracle test lint bench fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python  ## a venv with derive and its test tools
	$(BIN)/pip install -q -e '.[test]'
	@# bytecode now: an editable install compiles nothing, and where PYTHONDONTWRITEBYTECODE
	@# is set every start would compile derive again
	$(BIN)/python -m compileall -q derive

oracle: install  ## PyTorch too, for the tests that compare with its autograd (CI has it)
	$(BIN)/pip install -q -e '.[oracle]'

test: install  ## the whole suite (a couple of minutes on 2 cores)
	$(BIN)/python -m pytest

lint: install
	$(BIN)/pip install -q ruff
	$(BIN)/ruff check derive tests bench

bench: install  ## derive against a naive SymPy baseline, measured in the same run
	$(BIN)/python bench/run.py

FUZZ_EXAMPLES ?= 5000
fuzz: install  ## rounds of every fuzzer (fresh seeds each round) until one fails; Ctrl-C stops
	while DERIVE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/test_fuzz.py \
		-x -q -p no:cacheprovider; do :; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis .ruff_cache
