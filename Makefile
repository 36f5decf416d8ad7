# `make demo` and `make test` each do the whole set-up on a fresh clone.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint reference clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/sem-kit demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check sem_kit tests benchmarks

# Regenerates every stored reference number (tests/reference/*.json) from R
# (needs r-cran-lavaan, r-cran-semtools, r-cran-psych); the tests themselves need no R.
reference:
	cd tests/reference && for script in *_reference.R; do echo "Rscript $$script"; Rscript $$script || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
