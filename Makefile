# Two commands: `make run` (the demo on http://127.0.0.1:5000) and `make test`.
PYTHON ?= python3
PORT ?= 5000
VENV := .venv
BIN := $(VENV)/bin
FLASK := PB_VOTE_ENV_NAME=development $(BIN)/flask --app pb_vote
TRANSLATIONS := pb_vote/translations
PO_FILES := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run test lint translations extract-messages clean oidc-provider

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

# The local OpenID Provider (panva's oidc-provider, from npm) that the tests sign in through
# and the demo offers: installed from tests/oidc_provider/package-lock.json. Without node or
# npm it is skipped: the tests that need it say so, and the demo offers the emailed link only.
OIDC_PROVIDER := tests/oidc_provider
$(OIDC_PROVIDER)/node_modules/.package-lock.json: $(OIDC_PROVIDER)/package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --prefix $(OIDC_PROVIDER); \
	else echo "npm is missing: no local OpenID Provider (strong identification) for the demo and tests"; fi

oidc-provider: $(OIDC_PROVIDER)/node_modules/.package-lock.json

%.mo: %.po
	$(BIN)/pybabel compile --statistics -i $< -o $@

translations: $(MO_FILES)

# The worker sends the demo's mail too: --max-delay 1 has it look at the queue every second
# when idle (Huey's SQLite queue is polled, and backs off to 10 s by default).
# The demo's identity provider: the local OpenID Provider, when node and its package are
# there (its log: instance/oidc-provider.log).
OIDC_PORT ?= 9400
DEMO_IDENTITY_PROVIDERS := {"testid": {"issuer": "http://127.0.0.1:$(OIDC_PORT)", \
	"client_id": "pb-vote", "client_secret": "pb-vote-test-secret", \
	"label": {"fi": "Testitunnistus", "sv": "Testidentifiering", "en": "Test identification"}, \
	"scope": "openid profile address personal_identity_code", "person_claim": "hetu", \
	"postal_code_claim": "address.postal_code", "birthdate_claim": "birthdate"}}

run: $(VENV)/.installed translations oidc-provider
	@provider=""; \
	if [ -f $(OIDC_PROVIDER)/node_modules/oidc-provider/package.json ] && command -v node >/dev/null; then \
		export PB_VOTE_IDENTITY_PROVIDERS='$(DEMO_IDENTITY_PROVIDERS)'; \
		(cd $(OIDC_PROVIDER) && exec node provider.js --port $(OIDC_PORT) --tag demo) \
			>instance/oidc-provider.log 2>&1 & provider=$$!; \
	else echo "No node or oidc-provider: the demo offers the emailed link only"; fi; \
	trap 'kill $$provider $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) db upgrade && $(FLASK) seed-demo --if-empty || exit 1; \
	echo "Serving the demo on http://127.0.0.1:$(PORT) (Ctrl+C stops it and its task worker)"; \
	PB_VOTE_ENV_NAME=development $(BIN)/huey_consumer pb_vote.worker.huey --workers 2 \
		--max-delay 1 --logfile instance/worker.log & worker=$$!; \
		$(FLASK) run --debug --host 127.0.0.1 --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

# --durations=20 lists the slowest tests, so a slow one shows up; PYTEST_ARGS come last and win.
test: $(VENV)/.installed-test translations lint oidc-provider
	$(BIN)/python -m pytest --durations=20 $(PYTEST_ARGS)

# For developers: refresh the template and the catalogues after changing strings.
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--project pb_vote -o $(TRANSLATIONS)/messages.pot pb_vote templates
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching

clean:
	rm -rf $(VENV) $(MO_FILES) .pytest_cache .ruff_cache
