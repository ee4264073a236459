# Every target creates and uses .venv; a fresh machine needs only python3 (3.11+).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench lint install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Chat with SCIS on this terminal (SQLite in ./scis.db; the hurricane-city network on first start).
run: install
	$(BIN)/scis serve

# The Telegram tests' emulator (telegram-test-api); without npm those tests skip, or fail under CI.
EMULATOR := tests/telegram_emulator/node_modules/.package-lock.json
$(EMULATOR): tests/telegram_emulator/package.json tests/telegram_emulator/package-lock.json
	if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/telegram_emulator --no-audit --no-fund && touch $@; else echo "npm not found: the Telegram tests will skip"; fi

# The order-life state machine is CPU-bound while much of the rest waits on servers, so it runs
# beside the rest in a process of its own; its report follows the suite's. Either failing fails.
test: install-dev $(EMULATOR)
	@$(BIN)/python -m pytest -q -p no:cacheprovider -m order_life > .order-life.log 2>&1 & life=$$!; \
	$(BIN)/python -m pytest -q -m "not order_life"; suite=$$?; \
	wait $$life; lived=$$?; \
	echo "--- the order-life state machine ---"; cat .order-life.log; \
	test $$suite -eq 0 -a $$lived -eq 0

bench: install-dev
	$(BIN)/python benchmarks/weave.py
	$(BIN)/python benchmarks/load.py
	$(BIN)/python benchmarks/chair_story.py
	$(BIN)/python benchmarks/pipeline.py
	$(BIN)/python benchmarks/broker_floor.py
	$(BIN)/python benchmarks/bottlenecks.py
	$(BIN)/python benchmarks/fragility.py
	$(BIN)/python benchmarks/intent_matching.py

lint: install-dev
	$(BIN)/ruff check core workers bots tests benchmarks
	$(BIN)/ruff format --check core workers bots tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache *.egg-info
