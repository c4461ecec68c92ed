#!/usr/bin/env bash
# make demo-pulumi: the whole Blueprint path with Pulumi instead of Terraform, no cloud account.
#
#   1. start two function hosts (regions local-a, local-b) on loopback
#   2. run examples/pulumi/quickstart through the automation API (preview + up) on a file://
#      backend: analysis, wasm build, deploy; then export the stack for the agent
#   3. start blueprint-agent on the stack export
#   4. one execution, then stepped load: executions shift from local to the hosts as load grows
#   5. destroy the stack and stop everything, also on Ctrl-C or failure
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tools/lib/demo.sh"
bin="$root/bin"
out="$root/.cache/demo-pulumi"
mkdir -p "$out"
work=$(mktemp -d "$out/run.XXXXXX")

pids=()
deployed=""
driver() {
  (cd "$root/examples/pulumi/quickstart" &&
    "$bin/quickstart-driver" -backend "$work/backend" -hosts "$hosts" -jobs "$root/examples/terraform/quickstart/jobs" \
      -artifact-store "$work/artifacts" -state-store "sqlite://$work/state.db" "$@")
}
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$deployed" ]; then
    say "pulumi destroy (automation API)"
    driver destroy >"$work/destroy.log" 2>&1 && tail -n 3 "$work/destroy.log" ||
      { echo "destroy failed; see $work/destroy.log" >&2; status=1; }
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" -eq 0 ]; then
    rm -rf "$work"
  else
    echo "demo failed (exit $status); logs kept in $work" >&2
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PULUMI=$("$root/tools/pulumi.sh")
# The engine finds the pulumi CLI and the provider plugin on PATH; state and plugins stay in
# the run's directory.
export PATH="$bin:$(dirname "$PULUMI"):$PATH"
export PULUMI_HOME="$work/pulumi-home" PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_CONFIG_PASSPHRASE
PULUMI_CONFIG_PASSPHRASE=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export BLUEPRINT_HOST_TOKEN
BLUEPRINT_HOST_TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$work/backend"
(cd "$root" && CGO_ENABLED=0 go build -o "$bin/quickstart-driver" ./examples/pulumi/quickstart/driver)

say "starting function hosts (regions local-a, local-b)"
declare -A host_url
for region in local-a local-b; do
  port=$(free_port)
  "$bin/blueprint" host --listen "127.0.0.1:$port" --region "$region" --data "$work/host-$region" \
    >"$work/host-$region.log" 2>&1 &
  pids+=($!)
  host_url[$region]="http://127.0.0.1:$port"
done
for region in local-a local-b; do
  wait_healthy "${host_url[$region]}/healthz"
  echo "  $region: ${host_url[$region]}"
done
hosts="{\"local-a\":\"${host_url[local-a]}\",\"local-b\":\"${host_url[local-b]}\"}"

say "pulumi up of examples/pulumi/quickstart (automation API, pulumi at $PULUMI)"
deployed=yes
driver -export "$work/stack.json" up 2>&1 | tee "$work/up.log" | grep -E '^(  [+~-] |Resources:|up:|    [0-9]+ )' || true
grep -q '^up: ' "$work/up.log" || { echo "pulumi up failed; see $work/up.log" >&2; exit 1; }

say "starting blueprint-agent on the stack export (local capacity 1)"
agent_port=$(free_port)
"$bin/blueprint-agent" --state "$work/stack.json" --listen "127.0.0.1:$agent_port" \
  --capacity 1 --memo-bytes -1 --cache "$work/agent-cache" >"$work/agent.log" 2>&1 &
pids+=($!)
agent="http://127.0.0.1:$agent_port"
wait_healthy "$agent/healthz"
echo "  agent: $agent"

say "one execution of top_words through the agent"
curl -fsS -X POST "$agent/v1/jobs/top_words:run" -H 'Content-Type: application/json' \
  --data @"$root/examples/terraform/quickstart/jobs/testdata/top_words/dickens.json"
echo

say "stepped load on resize_image: watch executions move from local to the hosts"
"$bin/blueprint" bench --agent "$agent" --job resize_image \
  --input @"$root/examples/terraform/quickstart/jobs/testdata/resize_image/256_to_64.json" \
  --rates 50,100,150,200 --step 4s --svg "$out/bench.svg" --json "$out/bench.json"

say "summary"
echo "  deployed by Pulumi and routed from the stack export; bench chart: $out/bench.svg"
