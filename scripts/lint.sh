#!/usr/bin/env bash
# Lint: ruff (lint + format check), mypy (strict outside relman/gui), import-linter contracts.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== ruff check"; ruff check relman tests
echo "== ruff format --check"; ruff format --check relman tests
echo "== mypy (strict outside relman/gui)"; mypy
echo "== import-linter"; lint-imports
