# The developer's front door: every task is a target, and `make help` lists them.
# The first target that needs the environment creates .venv and installs the pinned
# requirements into it; later runs only re-sync when requirements/*.txt change.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SYNCED := $(VENV)/.synced
export PYTHONDONTWRITEBYTECODE :=

.DEFAULT_GOAL := help
.PHONY: help generate run migrate downgrade migration watch resource remove-resource rename image image-test db-reset lint hooks api-release format typecheck test bench lock clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/uv: requirements/uv.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is required as '$(PYTHON)' (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/uv.txt
	@touch $@

$(SYNCED): $(BIN)/uv requirements/dev.txt
	$(BIN)/uv pip sync --quiet --python $(BIN)/python --require-hashes requirements/dev.txt
	@touch $@

generate: $(SYNCED) ## Compile protos/ into generated/, and each resource's queries.py into its sql.py (only what changed)
	@$(BIN)/python -m tools.codegen
	@$(BIN)/python -m tools.sql

run: generate ## Serve on localhost:50051 (a local PostgreSQL, migrated, unless DATABASE_URL is set)
	@echo "Serving on localhost:50051. Try, in another terminal:"
	@echo "  .venv/bin/python -m service.client services      # what is served, method by method"
	@echo "  .venv/bin/python -m service.client call <package.v1.Service/Method> '{...json...}'"
	@$(BIN)/python -m service serve

migrate: generate ## Apply every migration (DATABASE_URL, or the local database)
	@$(BIN)/python -m service migrate up

downgrade: generate ## Undo the latest migration
	@$(BIN)/python -m service migrate down

migration: generate ## Autogenerate a migration from the models: make migration m="add EXPIRED"
	@test -n "$(m)" || { echo 'usage: make migration m="what changed"'; exit 2; }
	@$(BIN)/python -m service migrate new -m "$(m)"

watch: generate ## Regenerate on every proto save and restart the dev server
	@$(BIN)/python -m tools.watch

resource: $(SYNCED) ## Add a complete, tested resource: make resource name=book_shelf [plural=book_shelves]
	@test -n "$(name)" || { echo 'usage: make resource name=<singular_snake> [plural=<plural_snake>]'; exit 2; }
	@$(BIN)/python -m tools.scaffold add "$(name)" $(if $(plural),--plural "$(plural)")

remove-resource: $(SYNCED) ## Remove a resource (proto, code, tests, registration, release): make remove-resource name=invitation
	@test -n "$(name)" || { echo 'usage: make remove-resource name=<singular_snake>'; exit 2; }
	@$(BIN)/python -m tools.api remove-resource "$(name)" $(if $(plural),--plural "$(plural)")

rename: $(SYNCED) ## Rename the project everywhere: make rename name=billing-service
	@test -n "$(name)" || { echo 'usage: make rename name=<kebab-name>'; exit 2; }
	@$(BIN)/python -m tools.rename "$(name)"

lint: $(SYNCED) ## ruff, hadolint, buf (format, lint, breaking), the workflows (zizmor, schema)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile
	$(BIN)/python -m tools.api check
	$(BIN)/python -m tools.workflows

hooks: generate ## Install the git pre-commit hooks (.pre-commit-config.yaml: make lint's checks, mypy)
	$(BIN)/pre-commit install

api-release: $(SYNCED) ## Record protos/ as the released API (api/released.binpb), after a deliberate break
	@$(BIN)/python -m tools.api release

format: $(SYNCED) ## Apply ruff's fixes and formatting, and buf's formatting to protos/
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	@if [ -n "$$(find protos -name '*.proto' 2>/dev/null | head -1)" ]; then $(BIN)/buf format -w protos; fi

typecheck: generate ## mypy --strict over service/, tests/, tools/ and migrations/
	$(BIN)/mypy

test: lint typecheck ## Lint, type check, the whole test suite with coverage, and the image where podman is
	@# pytest exits 5 when it collects no test: a template with its tests removed still passes.
	@rm -rf .coverage && mkdir .coverage
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS) || { code=$$?; [ $$code -eq 5 ] && echo "no tests collected"; \
		[ $$code -eq 5 ]; }
	@# Every process measured (the server subprocesses too), against the floor in pyproject.toml.
	@if $(BIN)/coverage combine -q 2>/dev/null; then $(BIN)/coverage report --skip-covered --sort=cover; \
		else echo "no coverage data: no test ran"; fi
	@if command -v podman >/dev/null; then $(MAKE) --no-print-directory image-test; \
		else echo "podman is not installed: skipped make image-test (CI installs it and runs it)"; fi

image: generate ## Build the container image (podman)
	$(BIN)/python -m tools.image build

image-test: generate ## Build the image and run it for real: migrate, serve, RPCs, graceful stop
	$(BIN)/python -m tools.image test

bench: generate ## Benchmarks (figures, never pass/fail)
	$(BIN)/python -m tools.bench

lock: $(BIN)/uv ## Re-pin requirements/*.txt (with hashes) from pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --extra codegen --extra dev $(LOCK_FLAGS) -o requirements/dev.txt
	grep -E '^[a-zA-Z]' requirements/dev.txt | sed 's/ .*//' > $(VENV)/pins.txt
	$(BIN)/uv pip compile pyproject.toml --extra codegen $(LOCK_FLAGS) -c $(VENV)/pins.txt -o requirements/codegen.txt
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -c $(VENV)/pins.txt -o requirements/runtime.txt
	echo uv | $(BIN)/uv pip compile - $(LOCK_FLAGS) -c $(VENV)/pins.txt -o requirements/uv.txt

LOCK_FLAGS = --quiet --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock"

db-reset: ## Delete the local development database (.local/postgres); make run recreates it
	@pid=.local/postgres/postmaster.pid; if [ -f $$pid ] && kill -0 "$$(head -1 $$pid)" 2>/dev/null; \
		then echo "the local database is running: stop make run, make watch or make test first"; \
		exit 1; fi
	rm -rf .local/postgres

clean: ## Remove the environment, generated code and caches
	rm -rf $(VENV) generated .mypy_cache .ruff_cache .pytest_cache
