#!/usr/bin/env bash
# make demo: the whole Blueprint path on this machine, with no cloud account.
#
#   1. start two function hosts (regions local-a, local-b) on loopback
#   2. terraform init + apply examples/terraform/quickstart (analysis, wasm build, deploy)
#   3. start blueprint-agent on the resulting state
#   4. drive it with stepped load: executions shift from local to the hosts as load grows
#   5. terraform destroy and stop everything, also on Ctrl-C or failure
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/tools/lib/provider-mirror.sh"
. "$root/tools/lib/demo.sh"
bin="$root/bin"
out="$root/.cache/demo"
mkdir -p "$out"
work=$(mktemp -d "$out/run.XXXXXX")
export CHECKPOINT_DISABLE=1

pids=()
applied=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$applied" ]; then
    say "terraform destroy"
    (cd "$work/tf" && "$TF" destroy -auto-approve -input=false -no-color >"$work/destroy.log" 2>&1) &&
      tail -n 1 "$work/destroy.log" ||
      { echo "terraform destroy failed; see $work/destroy.log" >&2; status=1; }
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

TF=$("$root/tools/terraform.sh")
export BLUEPRINT_HOST_TOKEN
# The provider's default state store is a file in the user data directory; keep the demo's in
# its own directory so every run counts from zero and leaves nothing behind.
export XDG_DATA_HOME="$work/data"
BLUEPRINT_HOST_TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

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

say "terraform init + apply (examples/terraform/quickstart, terraform at $TF)"
mkdir -p "$work/tf"
cp "$root/examples/terraform/quickstart/main.tf" "$work/tf/"
provider_mirror "$work" "$bin" # tools/lib/provider-mirror.sh
export TF_VAR_jobs_dir="$root/examples/terraform/quickstart/jobs"
export TF_VAR_hosts="{\"local-a\":\"${host_url[local-a]}\",\"local-b\":\"${host_url[local-b]}\"}"
cd "$work/tf"
"$TF" init -input=false -no-color >"$work/init.log" 2>&1 || { cat "$work/init.log" >&2; exit 1; }
applied=yes
"$TF" apply -auto-approve -input=false -no-color 2>&1 | tee "$work/apply.log" | grep -E '^(blueprint_job|data\.blueprint_jobs|Apply complete|Error|│)' || true
grep -q '^Apply complete' "$work/apply.log" || { echo "terraform apply failed; see $work/apply.log" >&2; exit 1; }
"$TF" output -no-color jobs

say "starting blueprint-agent on the terraform state (local capacity 1)"
# The bench sends one input over and over; resize_image is pure and deterministic, so with the
# result cache on, every request after the first would be answered from it. The demo turns the
# cache off so that every request runs and the routing shows.
agent_port=$(free_port)
"$bin/blueprint-agent" --state "$work/tf/terraform.tfstate" --listen "127.0.0.1:$agent_port" \
  --capacity 1 --memo-bytes -1 --cache "$work/agent-cache" >"$work/agent.log" 2>&1 &
pids+=($!)
agent="http://127.0.0.1:$agent_port"
wait_healthy "$agent/healthz"
echo "  agent: $agent"

say "one execution of top_words through the agent"
curl -fsS -X POST "$agent/v1/jobs/top_words:run" -H 'Content-Type: application/json' \
  --data @"$root/examples/terraform/quickstart/jobs/testdata/top_words/dickens.json"
echo

say "a Go program calling the jobs as functions (examples/app, wrappers from blueprint wrap)"
(cd "$root" && CGO_ENABLED=0 go build -trimpath -o "$work/app" ./examples/app)
echo "  through the agent:"
(cd "$root" && BLUEPRINT_AGENT="$agent" "$work/app" --outputs "$work/app-agent.json" | sed 's/^/    /')
echo "  with the router embedded in the program (same code, --state instead of BLUEPRINT_AGENT):"
(cd "$root" && "$work/app" --state "$work/tf/terraform.tfstate" --outputs "$work/app-embedded.json" | sed 's/^/    /')
cmp -s "$work/app-agent.json" "$work/app-embedded.json" ||
  { echo "the two modes answered differently; see $work/app-*.json" >&2; exit 1; }
echo "  both modes returned the same outputs"

say "a job that only runs on the VM: read_config reads a local file (not eligible, deployed nowhere, run natively)"
printf 'region = local\nowner  = demo\n' >"$work/app.conf"
curl -fsS -X POST "$agent/v1/jobs/read_config:run" -H 'Content-Type: application/json' \
  --data "{\"path\":\"$work/app.conf\"}"
echo

say "a stateful counter under load: tally runs here and on the hosts, its state in one store"
"$bin/blueprint" bench --agent "$agent" --job tally --input '{"counter":"demo"}' \
  --rates 100,400 --step 3s --json "$work/tally.json"
# bench sends one request before its steps (to fail fast on a wrong job name): one vote more.
votes=$(grep -o '"ok": [0-9]*' "$work/tally.json" | awk '{n += $2} END {print n + 1}')
count=$(curl -fsS -X POST "$agent/v1/jobs/tally:run" -H 'Content-Type: application/json' --data '{"counter":"demo"}')
echo "  $votes votes answered ok (with bench's first request), then one more: $count"
case "$count" in
  *"\"votes\":$((votes + 1))"*) echo "  exact: $((votes + 1)) votes counted, wherever each ran" ;;
  *) echo "  the count is not $((votes + 1)): some votes were lost or counted twice" >&2; exit 1 ;;
esac

say "stepped load on resize_image: watch executions move from local to the hosts"
"$bin/blueprint" bench --agent "$agent" --job resize_image \
  --input @"$root/examples/terraform/quickstart/jobs/testdata/resize_image/256_to_64.json" \
  --rates 50,100,150,200 --step 4s --svg "$out/bench.svg" --json "$out/bench.json"

say "summary"
echo "  analysed and deployed: $(cd "$work/tf" && "$TF" state list | grep -c '^blueprint_job') jobs to 2 regions"
echo "  bench chart: $out/bench.svg (table above; raw numbers in $out/bench.json)"
