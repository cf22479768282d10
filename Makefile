# Everyday commands. `make run` and `make test` do all set-up themselves and say what they do, a line a step.
VENV ?= .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed
STARTED := $(shell date +%s.%N)

.PHONY: run test lint fmt bench clean setup proto

# The app's packages (make run); the test and development tools come with the second stamp (make test).
$(RUN_STAMP): requirements.txt
	@bash scripts/python_deps.sh $(VENV) requirements.txt
	@touch $(RUN_STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@bash scripts/python_deps.sh $(VENV) requirements-dev.txt
	@touch $(STAMP) $(RUN_STAMP)

setup: $(STAMP)

## run: local MariaDB (unless DATABASE_URL is set) + migrate + seed + gunicorn on :5000 (dashboard at /)
# The front-end libraries (npm) install while the Python packages do: a cold start is seconds shorter.
run:
	@bash scripts/system_deps.sh run
	@bash scripts/vendor_assets.sh & npm=$$!; \
	  $(MAKE) --no-print-directory $(RUN_STAMP) || { wait $$npm; exit 1; }; \
	  wait $$npm
	@MAKE_RUN_STARTED=$(STARTED) $(PY) -m backend up

## test: ruff + the whole pytest suite against a throwaway MariaDB (and Redis, Chromium)
test: $(STAMP)
	bash scripts/system_deps.sh test
	bash scripts/vendor_assets.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## bench: see bench/README in docs/BENCHMARKS.md
bench: $(STAMP)
	bash scripts/system_deps.sh bench
	$(PY) bench/seed.py
	$(PY) bench/http_endpoints.py
	$(PY) bench/orders.py
	$(PY) bench/fanout.py
	$(PY) bench/alerts.py eval
	$(PY) bench/alerts.py e2e
	$(PY) bench/dashboard.py

## proto: regenerate the Upstox feed's protobuf module (committed; protoc from the pinned grpcio-tools)
proto: $(STAMP)
	$(PY) -m grpc_tools.protoc -I services/market_data --python_out=services/market_data \
		services/market_data/upstox_feed_v3.proto

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache node_modules routes/static/vendor artifacts
