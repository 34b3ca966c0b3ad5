# ecsrunner developer targets. `make demo` and `make test` work on a fresh machine: they create
# .venv and install the pinned dependencies first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
LAMBDA_RUNTIME ?= python3.13
LAMBDA_ARCH ?= x86_64
PYTEST_WORKERS ?= 2

.PHONY: help install build dist test test-unit test-e2e lint typecheck tf-check checkov demo bench reliability fuzz clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed ## create .venv with the pinned runtime and dev dependencies

build: install ## reproducible Lambda zip and runner build-context zip in dist/
	$(PY) scripts/build_artifacts.py --runtime $(LAMBDA_RUNTIME) --arch $(LAMBDA_ARCH)

dist: install ## versioned release artefacts for git/registry module sources: dist/ecsrunner-<version>/
	$(PY) scripts/build_artifacts.py --runtime $(LAMBDA_RUNTIME) --arch $(LAMBDA_ARCH) --release

lint: install ## ruff, mypy (strict on the core), hadolint, shellcheck
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/hadolint runner/Dockerfile
	$(VENV)/bin/shellcheck runner/*.sh .ci/run

tf-check: install ## terraform fmt, init + validate everywhere (offline via the provider mirror if present)
	$(PY) scripts/terraform_check.py

checkov: ## checkov on all Terraform (its own venv: its pins clash with ours)
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet checkov==3.3.30
	BC_SKIP_MAPPING=TRUE .venv-checkov/bin/checkov --quiet --compact --framework terraform -d . \
		--skip-path .terraform --skip-path .venv --skip-path .venv-checkov --skip-path build --skip-path dist

test: build lint checkov ## everything CI runs (terraform fmt/validate/apply run inside pytest)
	HYPOTHESIS_PROFILE=ci $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile

demo: build ## the whole system on one machine: moto + terraform apply + Lambdas + GitHub stand-in
	PYTHONPATH=devtools:. $(PY) -m ecsrunner_sandbox.demo $(DEMO_ARGS)

bench: build ## measure speed and cost; writes docs/BENCHMARKS.md and plots
	PYTHONPATH=devtools:. $(PY) -m bench.run $(BENCH_ARGS)

reliability: build ## long fault-injection and fuzz runs; writes docs/RELIABILITY.md
	PYTHONPATH=devtools:. $(PY) -m ecsrunner_sandbox.reliability_report $(RELIABILITY_ARGS)

clean: ## remove build outputs and virtualenvs
	rm -rf dist build $(VENV) .venv-checkov .pytest_cache .mypy_cache .ruff_cache
