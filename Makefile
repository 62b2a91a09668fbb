# hjemflyt: `make run` starts the whole system, `make test` runs every test.
# Both install what they need first (uv, then the locked environment).

SHELL := /bin/bash
PYTHON ?= python3
# uv from PATH if present, else a private copy installed from PyPI into .tools/.
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test test-calendar lint typecheck check bench bench-assessment bench-visits bench-delivery bench-allocation bench-simulation bench-indicators bench-iplos asyncapi token clean reset

.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv>=0.8,<0.14"

.venv/.synced: $(UV) pyproject.toml uv.lock shared/pyproject.toml $(wildcard services/*/pyproject.toml) $(wildcard clients/*/pyproject.toml)
	$(UV) sync --frozen
	@touch $@

## run: start PostgreSQL, NATS, the four services and the gateway; load the demo municipality
run: .venv/.synced
	$(UV) run hjemflyt run

## test: the whole test suite (service tests, whole-system and fault tests) on real servers
test: .venv/.synced
	$(UV) run pytest

## test-calendar: the date-sensitive tests (marker `calendar`) as if it were each of CALENDAR_DAYS (Oslo time)
# 00:20 in Oslo: the UTC date is still the day before. Year end, a leap day and the day
# after it, and the two daylight-saving switch days in Europe/Oslo. The whole-system ones
# (a stack of processes each, the slow part) on the days in CALENDAR_SYSTEM_DAYS.
CALENDAR_DAYS ?= 2026-12-31T00:20 2027-01-01T00:20 2028-02-28T00:20 2028-02-29T00:20 2028-03-01T00:20 2027-03-28T00:20 2027-10-31T00:20
CALENDAR_SYSTEM_DAYS ?= 2027-01-01T00:20 2027-10-31T00:20
test-calendar: .venv/.synced
	$(UV) run python -m tests.calendar_runs $(CALENDAR_DAYS)
	$(UV) run python -m tests.calendar_runs --system $(CALENDAR_SYSTEM_DAYS)

## check: lint and type-check
check: lint typecheck

lint: .venv/.synced
	$(UV) run ruff check .
	$(UV) run ruff format --check .

typecheck: .venv/.synced
	$(UV) run mypy shared/hjemflyt services/*/hjemflyt clients/provider/hjemflyt_provider

## bench: performance figures with a raw baseline measured in the same run
bench: .venv/.synced
	$(UV) run python -m bench.skeleton

## bench-assessment: decisions/s through the API and a 20,000-person bulk import, beside raw asyncpg
bench-assessment: .venv/.synced
	$(UV) run python -m bench.assessment

## bench-visits: one 100,000-visit batch through the API, beside a raw asyncpg COPY of the same rows
bench-visits: .venv/.synced
	$(UV) run python -m bench.visits

## bench-delivery: decision -> webhook delivered at 50 decisions/s, beside a raw JetStream round trip
bench-delivery: .venv/.synced
	$(UV) run python -m bench.delivery

## bench-allocation: allocation for 250,000 users in 356 municipalities, beside one SQL aggregate
bench-allocation: .venv/.synced
	$(UV) run python -m bench.allocation

## bench-simulation: an alternative rule set simulated for 20,000 users, beside one SQL aggregate
bench-simulation: .venv/.synced
	$(UV) run python -m bench.simulation

## bench-iplos: the yearly IPLOS report for 20,000 persons, beside one SQL query reading the same rows
bench-iplos: .venv/.synced
	$(UV) run python -m bench.iplos

## bench-indicators: a year's indicators for 20,000 persons (millions of visits), beside raw SQL
bench-indicators: .venv/.synced
	$(UV) run python -m bench.indicators

## asyncapi: regenerate the event catalogue in docs/
asyncapi: .venv/.synced
	$(UV) run hjemflyt asyncapi --out docs/asyncapi.json

## token: print a development token, e.g. make token ARGS="--role case_officer --district frogner"
token: .venv/.synced
	@$(UV) run hjemflyt token $(ARGS)

## reset: forget the local data (database, bus, dev issuer keys) of `make run`
reset:
	rm -rf .hjemflyt/run

clean:
	rm -rf .hjemflyt .venv .tools .mypy_cache .ruff_cache .pytest_cache
