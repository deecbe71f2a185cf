# Two commands: `make run` (the demo on http://127.0.0.1:5000) and `make test`.
PYTHON ?= python3
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
FLASK := PB_VOTE_ENV_NAME=development $(BIN)/flask --app pb_vote
TRANSLATIONS := pb_vote/translations
PO_FILES := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run test lint translations extract-messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The marker files record what was installed; they are remade when setup.cfg changes.
$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

%.mo: %.po
	$(BIN)/pybabel compile --statistics -i $< -o $@

translations: $(MO_FILES)

# The worker sends the demo's mail too: --max-delay 1 has it look at the queue every second
# when idle (Huey's SQLite queue is polled, and backs off to 10 s by default).
run: $(VENV)/.installed translations
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	@echo "Serving the demo on http://127.0.0.1:$(PORT) (Ctrl+C stops it and its task worker)"
	PB_VOTE_ENV_NAME=development $(BIN)/huey_consumer pb_vote.worker.huey --workers 2 \
		--max-delay 1 --logfile instance/worker.log & worker=$$!; trap "kill $$worker" EXIT INT TERM; \
		$(FLASK) run --debug --host 127.0.0.1 --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

# --durations=20 lists the slowest tests, so a slow one shows up; PYTEST_ARGS come last and win.
test: $(VENV)/.installed-test translations lint
	$(BIN)/python -m pytest --durations=20 $(PYTEST_ARGS)

# For developers: refresh the template and the catalogues after changing strings.
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--project pb_vote -o $(TRANSLATIONS)/messages.pot pb_vote templates
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching

clean:
	rm -rf $(VENV) $(MO_FILES) .pytest_cache .ruff_cache
