#!/usr/bin/env bash
# Prints the path of a Terraform CLI >= 1.5 that the demo and the acceptance tests can use.
#
# A terraform on PATH is used when it is new enough; otherwise Terraform 1.5.7 is built from
# source through the Go module proxy into the user cache (${XDG_CACHE_HOME:-~/.cache}/
# blueprint-tools), once, so a fresh clone does not build it again. The build takes about 4
# minutes on 2 cores; progress goes to stderr, the path alone to stdout.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
version=1.5.7
cache="${BLUEPRINT_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/blueprint-tools}"
bin="$cache/terraform-$version/terraform"

# new_enough PATH: true when the binary reports a version >= 1.5.
new_enough() {
  local v
  v=$(CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE=/dev/null "$1" version -json 2>/dev/null |
    sed -n 's/.*"terraform_version": *"\([0-9][0-9.]*\)".*/\1/p' | head -n1) || return 1
  [ -n "$v" ] || return 1
  local major minor
  major=${v%%.*}
  minor=${v#*.}
  minor=${minor%%.*}
  [ "$major" -gt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -ge 5 ]; }
}

if [ -z "${BLUEPRINT_BUILD_TERRAFORM:-}" ] && found=$(command -v terraform 2>/dev/null) && new_enough "$found"; then
  echo "$found"
  exit 0
fi

if [ -x "$bin" ] && new_enough "$bin"; then
  echo "$bin"
  exit 0
fi

echo "tools: no terraform >= 1.5 on PATH; building Terraform $version from source into $cache (about 4 minutes on 2 cores)" >&2
mkdir -p "$cache/terraform-$version"
tmp=$(mktemp -d "$cache/terraform-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
(GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod go install "github.com/hashicorp/terraform@v$version") &
build=$!
while kill -0 "$build" 2>/dev/null; do
  sleep 15
  kill -0 "$build" 2>/dev/null && echo "tools: still building terraform ($(($(date +%s) - start))s)" >&2
done
wait "$build"
mv "$tmp/terraform" "$bin"
echo "tools: built $(TF_CLI_CONFIG_FILE=/dev/null "$bin" version | head -n1) in $(($(date +%s) - start))s" >&2
echo "$bin"
