# Everything runs from a project-local virtual environment that scripts/setup.sh creates or refreshes.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint unit bench clean

setup:
	@scripts/setup.sh

demo: setup
	@scripts/demo.sh $(ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: setup
	$(BIN)/python -m pytest

test: lint unit

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
