# Everything runs from a project-local virtual environment that scripts/setup.sh creates or refreshes.
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= $(or $(PATROL_DATA_DIR),$(HOME)/.local/share/gridpatrol)
SAMPLE := data/sample

.PHONY: setup demo test lint unit bench clean

setup:
	@scripts/setup.sh

demo: setup
	@mkdir -p "$(DATA_DIR)/plans"
	$(BIN)/patrol plan $(SAMPLE)/township.geojson --no-fly $(SAMPLE)/no-fly.geojson \
	    --home $$(cat $(SAMPLE)/home.txt) --pattern coverage --alt 30 --speed 8 --spacing 40 \
	    --endurance 20 -o "$(DATA_DIR)/plans/township.plan"

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
