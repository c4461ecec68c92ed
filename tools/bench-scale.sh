#!/usr/bin/env bash
# The acceptance run of "Plan and apply at the scale of a real codebase" (docs/performance.md):
# one package of N small pure jobs (jobs 1-10 share a helper, jobs 11-15 call a third-party
# module served from a local GOPROXY directory), two local wasm hosts, the real terraform CLI.
# It measures, in one run:
#   1. apply of a 1-job package and of the N-job package, each with cold artifact and Go build
#      caches (a fresh XDG_CACHE_HOME; the module cache stays warm);
#   2. a no-change plan of the N jobs;
#   3. a one-line change to one job: the jobs it plans to update and the apply's time;
#   4. how many jobs an edit to the shared helper, to a comment, and to the module's version plan;
#   5. blueprint-agent on the 1-job and the N-job state: time to ready, resident memory after
#      every job ran once;
#   6. two applies of two copies of the configuration at once, sharing one cold build cache.
# Every check prints PASS or FAIL; the script exits non-zero when one fails.
# usage: tools/bench-scale.sh BIN_DIR [N]   (BIN_DIR holds terraform-provider-blueprint,
#        blueprint and blueprint-agent: `make build` puts them in bin/); TF names terraform.
set -euo pipefail
pdir=$(cd "$1" && pwd); n=${2:-100}; tf=${TF:-terraform}
root=$(cd "$(dirname "$0")/.." && pwd); work=$(mktemp -d)
. "$root/tools/lib/provider-mirror.sh"
export CHECKPOINT_DISABLE=1 BLUEPRINT_HOST_TOKEN=scale XDG_DATA_HOME=$work/data
export GOFLAGS=-mod=mod GONOSUMDB=example.com GOPROXY="file://$work/proxy,$(go env GOPROXY)"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
failed=0
check() { # check NAME CONDITION-as-shell-test
  if eval "$2"; then echo "PASS  $1"; else echo "FAIL  $1"; failed=1; fi
}
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }

# example.com/dep at v1.0.0 and v1.1.0, laid out as a GOPROXY directory.
for v in v1.0.0 v1.1.0; do
  d=$work/proxy/example.com/dep/@v; mkdir -p $d $work/depsrc/$v/example.com/dep@$v
  printf 'module example.com/dep\n\ngo 1.26\n' > $d/$v.mod
  cp $d/$v.mod $work/depsrc/$v/example.com/dep@$v/go.mod
  printf 'package dep\n\n// Scale multiplies n.\nfunc Scale(n int) int { return n * %s }\n' "${v:3:1}" > $work/depsrc/$v/example.com/dep@$v/dep.go
  echo "{\"Version\":\"$v\",\"Time\":\"2026-01-01T00:00:00Z\"}" > $d/$v.info
  (cd $work/depsrc/$v && zip -qrXD $d/$v.zip example.com)
  echo $v >> $d/list
done

# writemod DIR N DEPVERSION HELPER COMMENT JOB50BODY [PREFIX]: a module with N jobs named
# PREFIX1…PREFIXN (default Job; the 1-job package uses Solo, so both can be deployed at once).
writemod() {
  local dir=$1 count=$2 depv=$3 helper=$4 comment=$5 body50=$6 prefix=${7:-Job}
  mkdir -p $dir/jobs
  cat > $dir/go.mod <<EOT
module example.com/scale

go 1.26.8

require (
	example.com/dep $depv
	github.com/serverless-blueprint/blueprint v0.0.0
)

replace github.com/serverless-blueprint/blueprint => $root
EOT
  {
    echo 'package jobs'; echo
    echo 'import ('; echo '	"context"'; echo; echo '	"example.com/dep"'; echo ')'; echo
    echo 'type In struct{ N int }'; echo
    echo 'var _ = dep.Scale // the 1-job package imports it too'; echo
    echo "$comment"
    echo "func helper(n int) int { return $helper }"
    for i in $(seq 1 $count); do
      local expr="in.N + $i"
      if [ $i -le 10 ]; then expr="helper(in.N) + $i"; elif [ $i -le 15 ]; then expr="dep.Scale(in.N) + $i"; fi
      [ $i -eq 50 ] && expr="$body50"
      printf '\n//blueprint:job\nfunc %s%d(ctx context.Context, in In) (int, error) { return %s, nil }\n' $prefix $i "$expr"
    done
  } > $dir/jobs/jobs.go
  (cd $dir && go mod tidy >/dev/null 2>&1) || { echo "go mod tidy failed in $dir"; (cd $dir && go mod tidy); exit 1; }
}

# hosts for the main run (18801, 18802) and for the second copy of the concurrent run (18803, 18804)
for hr in 18801:a 18802:b 18803:c 18804:d; do
  p=${hr%:*}; r=${hr#*:}
  $pdir/blueprint host --listen 127.0.0.1:$p --region $r --data $work/host$p >$work/host$p.log 2>&1 & pids+=($!)
done
provider_mirror "$work" "$pdir" # tools/lib/provider-mirror.sh
# writetf DIR MODULE REGION:PORT REGION:PORT
writetf() {
  mkdir -p $1
  cat > $1/main.tf <<EOT
terraform {
  required_providers {
    blueprint = { source = "serverless-blueprint/blueprint" }
  }
}
provider "blueprint" {
  wasm { hosts = { ${3%:*} = "http://127.0.0.1:${3#*:}", ${4%:*} = "http://127.0.0.1:${4#*:}" } }
}
data "blueprint_jobs" "all" { package = "$2/jobs" }
resource "blueprint_job" "job" {
  for_each = { for j in data.blueprint_jobs.all.jobs : j.name => j }
  package  = "$2/jobs"
  function = each.value.function
}
EOT
  (cd $1 && "$tf" init -input=false >/dev/null)
}
# apply DIR LOG: prints the seconds terraform apply took
apply() {
  local s; s=$(now)
  (cd $1 && "$tf" apply -auto-approve -input=false -no-color > $2 2>&1) || { tail -30 $2 >&2; exit 1; }
  secs $s $(now)
}
# planned DIR LOG: prints how many resources the plan would change (add + change + destroy)
planned() {
  (cd $1 && "$tf" plan -input=false -no-color > $2 2>&1) || { tail -30 $2 >&2; exit 1; }
  if grep -q '^No changes' $2; then echo 0; else
    grep -o 'Plan: [0-9]* to add, [0-9]* to change, [0-9]* to destroy' $2 | awk '{print $2 + $5 + $8}'; fi
}
sleep 1.5

writemod $work/one 1 v1.0.0 'n * 2' '// helper doubles n.' 'in.N + 50' Solo
writemod $work/many $n v1.0.0 'n * 2' '// helper doubles n.' 'in.N + 50'
writetf $work/tf1 $work/one a:18801 b:18802
writetf $work/tfn $work/many a:18801 b:18802

echo "== apply with cold caches"
export XDG_CACHE_HOME=$work/cache1
t1=$(apply $work/tf1 $work/apply1.log); echo "apply of 1 job: $t1 s"
export XDG_CACHE_HOME=$work/cachen
tn=$(apply $work/tfn $work/applyn.log); echo "apply of $n jobs: $tn s ($(grep -c 'Creation complete' $work/applyn.log) created)"
check "apply of $n jobs ≤ 3× the 1-job apply ($(echo "scale=2; $tn / $t1" | bc)×)" "[ \$(echo '$tn <= 3 * $t1' | bc) = 1 ]"

echo "== plans"
s=$(now); c=$(planned $work/tfn $work/plan0.log); tp=$(secs $s $(now))
echo "no-change plan of $n jobs: $tp s, $c changes"
check "a no-change plan plans nothing" "[ $c = 0 ]"
check "a no-change plan takes ≤ 3 s ($tp s)" "[ \$(echo '$tp <= 3' | bc) = 1 ]"

writemod $work/many $n v1.0.0 'n * 2' '// helper doubles n.' 'in.N + 51'
c=$(planned $work/tfn $work/plan1.log); echo "one-line change to one job: $c planned"
check "a one-line change to one job plans exactly one update" "[ $c = 1 ]"
t1u=$(apply $work/tfn $work/apply1u.log); echo "its apply: $t1u s"
check "its apply ≤ 1.5× the 1-job apply ($(echo "scale=2; $t1u / $t1" | bc)×)" "[ \$(echo '$t1u <= 1.5 * $t1' | bc) = 1 ]"

writemod $work/many $n v1.0.0 'n * 3' '// helper doubles n.' 'in.N + 51'
c=$(planned $work/tfn $work/plan2.log); echo "edit to a helper 10 jobs call: $c planned"
check "an edit to a helper used by 10 jobs plans exactly those 10" "[ $c = 10 ]"
writemod $work/many $n v1.0.0 'n * 2' '// helper doubles n, and is shared by ten jobs.
// It has a second comment line now, which moves every job below it.' 'in.N + 51'
c=$(planned $work/tfn $work/plan3.log); echo "edit to a comment: $c planned"
check "an edit to a comment plans none" "[ $c = 0 ]"
writemod $work/many $n v1.1.0 'n * 2' '// helper doubles n.' 'in.N + 51'
c=$(planned $work/tfn $work/plan4.log); echo "example.com/dep v1.0.0 → v1.1.0: $c planned"
check "a change of a dependency's version plans the 5 jobs that use it" "[ $c = 5 ]"
writemod $work/many $n v1.0.0 'n * 2' '// helper doubles n.' 'in.N + 51'

echo "== agent"
# agent STATE JOBS PORT PREFIX: prints "ready_seconds rss_mb" after every job ran once, the
# resident memory of the agent and its native worker processes together
agent() {
  local s pid; s=$(now)
  $pdir/blueprint-agent --state $1 --listen 127.0.0.1:$3 --host-token scale --log-level warn >$work/agent$3.log 2>&1 & pid=$!; pids+=($pid)
  until curl -sf http://127.0.0.1:$3/healthz >/dev/null; do sleep 0.02; done
  local ready; ready=$(secs $s $(now))
  for i in $(seq 1 $2); do
    curl -sf -X POST -H 'Content-Type: application/json' -d '{"N":1}' http://127.0.0.1:$3/v1/jobs/$4$i:run >> $work/runs$3.log || { echo "$4$i failed on the agent" >&2; tail -5 $work/agent$3.log >&2; }
    echo >> $work/runs$3.log
  done
  echo "agent on $2 job(s) ran them: $(grep -o '"target":"[a-z]*"' $work/runs$3.log | sort | uniq -c | xargs)" >&2
  # the agent and its native worker processes
  local rss=0 p
  for p in $pid $(pgrep -P $pid); do rss=$((rss + $(awk '/VmRSS/ {print $2}' /proc/$p/status))); done
  echo "agent on $2 job(s): $(pgrep -P $pid | wc -l) worker process(es)" >&2
  kill $pid; wait $pid 2>/dev/null || true
  echo "$ready $((rss / 1024))"
}
read r1 m1 < <(agent $work/tf1/terraform.tfstate 1 18811 solo)
read rn mn < <(agent $work/tfn/terraform.tfstate $n 18812 job)
echo "agent on 1 job: ready in $r1 s, $m1 MB resident; on $n jobs: ready in $rn s, $mn MB resident"
check "agent memory on $n jobs ≤ 2× on 1 job" "[ $mn -le \$((2 * $m1)) ]"
check "agent ready in ≤ 5 s on $n jobs" "[ \$(echo '$rn <= 5' | bc) = 1 ]"

echo "== two applies at once, one cold build cache"
(cd $work/tfn && "$tf" destroy -auto-approve -input=false >/dev/null 2>&1)
cp -r $work/many $work/many2
writetf $work/tfa $work/many a:18801 b:18802
writetf $work/tfb $work/many2 c:18803 d:18804
export XDG_CACHE_HOME=$work/cacheab
s=$(now)
(cd $work/tfa && "$tf" apply -auto-approve -input=false -no-color > $work/applya.log 2>&1) & a=$!
(cd $work/tfb && "$tf" apply -auto-approve -input=false -no-color > $work/applyb.log 2>&1) & b=$!
okA=0; okB=0; wait $a || okA=$?; wait $b || okB=$?
echo "both applies: $(secs $s $(now)) s (exit codes $okA, $okB)"
check "two concurrent applies both succeed" "[ $okA = 0 ] && [ $okB = 0 ]"
shaA=$(cd $work/tfa && "$tf" show -json | grep -o '"wasm":"[0-9a-f]*"' | sort -u)
shaB=$(cd $work/tfb && "$tf" show -json | grep -o '"wasm":"[0-9a-f]*"' | sort -u)
check "they recorded the same artifact" "[ -n \"$shaA\" ] && [ \"$shaA\" = \"$shaB\" ]"
bad=0
for f in $(find $XDG_CACHE_HOME -type f \( -name '*.wasm' -o -name '*.bin' \) 2>/dev/null); do
  want=$(basename $f); want=${want%.*}
  [[ $want =~ ^[0-9a-f]{64}$ ]] || continue
  [ "$(sha256sum $f | cut -c1-64)" = "$want" ] || { echo "corrupt cache entry $f"; bad=1; }
done
check "every cached artifact matches its name's hash" "[ $bad = 0 ]"
(cd $work/tfa && "$tf" destroy -auto-approve -input=false >/dev/null 2>&1) & a=$!
(cd $work/tfb && "$tf" destroy -auto-approve -input=false >/dev/null 2>&1) & b=$!
wait $a $b || true
(cd $work/tf1 && "$tf" destroy -auto-approve -input=false >/dev/null 2>&1) || true
exit $failed
