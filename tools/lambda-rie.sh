#!/usr/bin/env bash
# Prints the path of AWS's Lambda runtime interface emulator (aws-lambda-rie), which the AWS
# Lambda tests run the built bootstrap under; they read it from BLUEPRINT_LAMBDA_RIE.
#
# An aws-lambda-rie on PATH is used; otherwise it is built from its Go module through the Go
# module proxy into the user cache (${XDG_CACHE_HOME:-~/.cache}/blueprint-tools), once (under
# a minute). Progress goes to stderr, the path alone to stdout.
set -euo pipefail

module=github.com/aws/aws-lambda-runtime-interface-emulator
version=v0.0.0-20261030222936-bef5c4ba774d
cache="${BLUEPRINT_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/blueprint-tools}"
dir="$cache/aws-lambda-rie-$version"

if found=$(command -v aws-lambda-rie 2>/dev/null); then
  echo "$found"
  exit 0
fi
if [ -x "$dir/aws-lambda-rie" ]; then
  echo "$dir/aws-lambda-rie"
  exit 0
fi
echo "tools: building aws-lambda-rie $version into $dir" >&2
mkdir -p "$dir"
tmp=$(mktemp -d "$cache/rie-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod go install "$module/cmd/aws-lambda-rie@$version" >&2
mv "$tmp/aws-lambda-rie" "$dir/aws-lambda-rie"
echo "$dir/aws-lambda-rie"
