#!/usr/bin/env bash
# make test runs the tests with -race, which needs cgo and a C compiler. Fail early with a
# message that says what to install, rather than with the go command's.
set -euo pipefail
go=${GO:-go}
if [ "$($go env CGO_ENABLED)" != "1" ]; then
  echo "make test runs with -race, which needs cgo: unset CGO_ENABLED=0 (or set CGO_ENABLED=1)" >&2
  exit 1
fi
cc=$($go env CC)
if ! command -v "${cc%% *}" >/dev/null 2>&1; then
  echo "make test runs with -race, which needs a C compiler ($cc) on PATH: install one (Debian/Ubuntu: apt-get install gcc; macOS: xcode-select --install)" >&2
  exit 1
fi
