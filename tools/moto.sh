#!/usr/bin/env bash
# Prints the path of a moto_server (moto 5.x: AWS's Lambda control plane, IAM, STS, S3 and
# DynamoDB on 127.0.0.1) for the AWS tests; they read it from BLUEPRINT_MOTO_SERVER.
#
# A moto_server on PATH is used when it is moto 5; otherwise moto[server] 5.2.1 is installed
# with pip into a virtual environment in the user cache (${XDG_CACHE_HOME:-~/.cache}/
# blueprint-tools/moto-5.2.1), once. Needs python3 with the venv module; progress goes to
# stderr, the path alone to stdout.
set -euo pipefail

version=5.2.1
cache="${BLUEPRINT_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/blueprint-tools}"
venv="$cache/moto-$version"

# moto5 PATH: true when the moto_server at PATH belongs to moto 5.
moto5() {
  local py
  py=$(head -n1 "$1" 2>/dev/null | sed -n 's/^#!//p')
  if [ -n "$py" ] && [ -x "${py%% *}" ]; then
    "${py%% *}" -c 'import moto, sys; sys.exit(0 if moto.__version__.startswith("5.") else 1)' 2>/dev/null && return 0
  fi
  # pyenv shims and wrappers: ask the python that runs them
  python3 -c 'import moto, sys; sys.exit(0 if moto.__version__.startswith("5.") else 1)' 2>/dev/null
}

if found=$(command -v moto_server 2>/dev/null) && moto5 "$found"; then
  echo "$found"
  exit 0
fi
# .complete is written last: a venv left half-built by an interrupted install is rebuilt
if [ -x "$venv/bin/moto_server" ] && [ -f "$venv/.complete" ]; then
  echo "$venv/bin/moto_server"
  exit 0
fi
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv' 2>/dev/null; then
  echo "tools: the AWS tests need moto_server (moto 5) and there is none on PATH; installing it needs python3 with venv (Debian: apt-get install python3-venv), or install it yourself: pip install 'moto[server]==$version'" >&2
  exit 1
fi
echo "tools: no moto_server on PATH; installing moto[server] $version into $venv (about a minute)" >&2
rm -rf "$venv"
mkdir -p "$cache"
# virtual environments record their own path, so it is built where it will live
python3 -m venv "$venv" >&2
if ! "$venv/bin/pip" install --quiet "moto[server]==$version" >&2; then
  rm -rf "$venv"
  echo "tools: pip could not install moto[server] $version (no package index reachable?): install it yourself (pip install 'moto[server]==$version') so that moto_server is on PATH, or set BLUEPRINT_MOTO_SERVER for go test" >&2
  exit 1
fi
touch "$venv/.complete"
echo "$venv/bin/moto_server"
