#!/usr/bin/env bash
# The whole test suite: Swift unit tests (XCTest) and the integration tests (pytest) against real
# peers (DCMTK, pynetdicom, Orthanc, dciodvfy) and a real PostgreSQL started here and stopped at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/bootstrap.sh --test
[[ -x /opt/swift/usr/bin/swift ]] && export PATH=/opt/swift/usr/bin:$PATH

# A throw-away cluster outside the checkout (its server user must reach it when we run as root).
pgdir=$(mktemp -d /tmp/lstv-test-pg.XXXXXX)
chmod 755 "$pgdir"
cleanup() { scripts/pg.sh stop "$pgdir" || true; rm -rf "$pgdir"; }
trap cleanup EXIT
export LSTV_TEST_DATABASE_URL=$(LSTV_PG_FAST=1 scripts/pg.sh start "$pgdir")
export LSTV_TEST_PG_DIR=$pgdir
echo "test: PostgreSQL at $LSTV_TEST_DATABASE_URL"
# What a person looks at after the run (the report's screenshots); kept after exit.
export LSTV_TEST_ARTIFACTS=${LSTV_TEST_ARTIFACTS:-$(mktemp -d /tmp/lstv-test-artifacts.XXXXXX)}
echo "test: artefacts in $LSTV_TEST_ARTIFACTS"

# Build output is long; keep the diagnostics, drop the progress lines.
quiet() { "$@" 2>&1 | awk '!/^\[[0-9]+\/[0-9]+\] / { print; fflush() }'; return "${PIPESTATUS[0]}"; }

# Unit tests run on the debug build; the integration tests drive the release binary, as a hospital
# runs it (the network in a debug build is far too slow for end-to-end timings).
quiet swift build -c release --product lstv-node
export LSTV_NODE_BIN=$root/.build/release/lstv-node

status=0
quiet swift test || status=1
.venv/bin/python -m pytest -q tests/integration "$@" || status=1
exit $status
