#!/usr/bin/env bash
# The whole test suite: build, then unit, integration and e2e tests (`make test`).
# Run as root on a machine prepared by scripts/setup.sh. Arguments are passed to
# go test through GOTESTFLAGS, e.g. `scripts/test.sh -run TestLoad`.
# Under CI (CI=true) go test runs verbose so each test's result is in the log.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v go >/dev/null 2>&1; then
	export PATH="$PATH:/usr/local/go/bin"
fi
flags="$*"
if [ "${CI:-}" = "true" ] && [[ " $flags " != *" -v "* ]]; then
	flags="-v $flags"
fi
exec make test GOTESTFLAGS="$flags"
