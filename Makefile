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

# Regenerates tests/reference/*.json from R (needs r-cran-lavaan, r-cran-semtools, r-cran-psych).
reference:
	cd tests/reference && Rscript make_references.R

clean:
	rm -rf $(VENV) build *.egg-info
