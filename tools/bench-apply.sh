#!/usr/bin/env bash
# Apply N small pure jobs of one package to two local wasm hosts (ports 18801 and 18802) with
# cold artifact and Go build caches (a fresh XDG_CACHE_HOME; the module cache stays warm) and
# print how long terraform apply took; then destroy. TF names the terraform CLI (default: PATH).
# Used for docs/performance.md ("Plan and apply at scale").
# usage: tools/bench-apply.sh BIN_DIR N   (BIN_DIR holds terraform-provider-blueprint and blueprint: make build puts them in bin/)
set -euo pipefail
pdir=$1; n=$2; root=$(cd "$(dirname "$0")/.." && pwd); work=$(mktemp -d)
export CHECKPOINT_DISABLE=1 BLUEPRINT_HOST_TOKEN=scale XDG_CACHE_HOME=$work/cache XDG_DATA_HOME=$work/data
mkdir -p $work/mod/jobs $work/tf
cat > $work/mod/go.mod <<EOT
module example.com/scale

go 1.26.8

require github.com/serverless-blueprint/blueprint v0.0.0

replace github.com/serverless-blueprint/blueprint => $root
EOT
{ echo 'package jobs'; echo; echo 'import "context"'; echo; echo 'type In struct{ N int }'; 
  for i in $(seq 1 $n); do printf '\n//blueprint:job\nfunc Job%d(ctx context.Context, in In) (int, error) { return in.N + %d, nil }\n' $i $i; done; } > $work/mod/jobs/jobs.go
$pdir/blueprint host --listen 127.0.0.1:18801 --region a --data $work/ha >/dev/null 2>&1 & p1=$!
$pdir/blueprint host --listen 127.0.0.1:18802 --region b --data $work/hb >/dev/null 2>&1 & p2=$!
trap 'kill $p1 $p2 2>/dev/null; rm -rf "$work"' EXIT
sleep 1.5
mirror=$work/mirror/registry.terraform.io/serverless-blueprint/blueprint/0.1.0/linux_amd64; mkdir -p $mirror
cp $pdir/terraform-provider-blueprint $mirror/terraform-provider-blueprint_v0.1.0
cat > $work/rc <<EOT
provider_installation {
  filesystem_mirror {
    path    = "$work/mirror"
    include = ["serverless-blueprint/blueprint"]
  }
  direct { exclude = ["serverless-blueprint/blueprint"] }
}
EOT
export TF_CLI_CONFIG_FILE=$work/rc
cat > $work/tf/main.tf <<EOT
terraform {
  required_providers {
    blueprint = { source = "serverless-blueprint/blueprint" }
  }
}
provider "blueprint" {
  wasm { hosts = { a = "http://127.0.0.1:18801", b = "http://127.0.0.1:18802" } }
}
data "blueprint_jobs" "all" { package = "$work/mod/jobs" }
resource "blueprint_job" "job" {
  for_each = { for j in data.blueprint_jobs.all.jobs : j.name => j }
  package  = "$work/mod/jobs"
  function = each.value.function
}
EOT
cd $work/tf; "${TF:-terraform}" init -input=false >/dev/null
start=$(date +%s.%N)
"${TF:-terraform}" apply -auto-approve -input=false -no-color > $work/apply.log 2>&1 || { tail -20 $work/apply.log; exit 1; }
end=$(date +%s.%N)
echo "apply of $n jobs with $(basename $pdir): $(echo "$end - $start" | bc) s ($(grep -c 'Creation complete' $work/apply.log) created)"
"${TF:-terraform}" destroy -auto-approve -input=false >/dev/null 2>&1
