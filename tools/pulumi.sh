#!/usr/bin/env bash
# Prints the path of the pulumi CLI the Pulumi tests and the Pulumi demo use (they put its
# directory first on PATH, where the automation API looks for it).
#
# A pulumi on PATH whose version is $version is used; otherwise it is built from its Go module
# (github.com/pulumi/pulumi/pkg/v3, cmd/pulumi) through the Go module proxy into the user cache
# (${XDG_CACHE_HOME:-~/.cache}/blueprint-tools), once: about eight minutes on two cores. The
# version is stamped in with -ldflags, as the automation API refuses a CLI that reports none.
# Progress goes to stderr, the path alone to stdout.
set -euo pipefail

version=v3.274.1
module=github.com/pulumi/pulumi/pkg/v3
cache="${BLUEPRINT_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/blueprint-tools}"
dir="$cache/pulumi-$version"

if found=$(command -v pulumi 2>/dev/null) && [ "$("$found" version 2>/dev/null)" = "$version" ]; then
  echo "$found"
  exit 0
fi
if [ -x "$dir/pulumi" ]; then
  echo "$dir/pulumi"
  exit 0
fi
echo "tools: building the pulumi CLI $version into $dir (about 8 minutes on 2 cores, once)" >&2
mkdir -p "$dir"
tmp=$(mktemp -d "$cache/pulumi-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# `go install module/cmd/pulumi@version` refuses the module (its go.mod has replace directives),
# so build it from a throwaway module that requires it and repeats its one outside replace.
cat >"$tmp/go.mod" <<EOT
module blueprint.tools/pulumi

go 1.24

require (
	$module $version
	github.com/pulumi/pulumi/sdk/v3 $version
)

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
EOT
if ! (cd "$tmp" && GOFLAGS=-mod=mod go get "$module/cmd/pulumi@$version" >&2 &&
  CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -o "$tmp/pulumi" \
    -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
    "$module/cmd/pulumi" >&2); then
  echo "tools: building pulumi $version failed; install pulumi $version on PATH instead (see the Pulumi docs) and run again" >&2
  exit 1
fi
mv "$tmp/pulumi" "$dir/pulumi"
echo "$dir/pulumi"
