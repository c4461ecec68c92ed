#!/usr/bin/env bash
# Regenerates the Terraform provider docs (docs/terraform) with tfplugindocs, from the
# provider's schema (MarkdownDescription of every attribute) and the examples under examples/.
#
#   tools/gen-tfdocs.sh          regenerate docs/terraform
#   tools/gen-tfdocs.sh --check  fail (exit 1, with a diff) when docs/terraform is stale
#
# tfplugindocs is built from tools/tfdocs (its own go.mod, so its dependencies stay out of the
# product's). It never downloads terraform: the schema comes from `terraform providers schema
# -json`, run with the terraform that tools/terraform.sh finds (or builds) and a dev_overrides
# CLI config pointing at a freshly built provider, so no `terraform init` and no registry.
# The docs go to docs/terraform rather than docs/ because tfplugindocs deletes index.md,
# guides/, resources/ and data-sources/ in the directory it renders to.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out_rel=docs/terraform
mode=generate
case "${1:-}" in
"") ;;
--check) mode=check ;;
*)
  echo "usage: $0 [--check]" >&2
  exit 2
  ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

terraform_bin=$("$root/tools/terraform.sh")

echo "tfdocs: building provider and tfplugindocs" >&2
(cd "$root" && go build -o "$work/bin/terraform-provider-blueprint" ./cmd/terraform-provider-blueprint)
(cd "$root/tools/tfdocs" && go build -o "$work/tfplugindocs" github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs)

cat >"$work/terraform.rc" <<RC
provider_installation {
  dev_overrides {
    "serverless-blueprint/blueprint" = "$work/bin"
  }
  direct {}
}
RC
mkdir -p "$work/config"
cat >"$work/config/main.tf" <<'TF'
terraform {
  required_providers {
    blueprint = {
      source = "serverless-blueprint/blueprint"
    }
  }
}
TF
echo "tfdocs: reading the provider schema with $terraform_bin" >&2
(cd "$work/config" && TF_CLI_CONFIG_FILE="$work/terraform.rc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 \
  "$terraform_bin" providers schema -json) >"$work/schema-full.json" 2>"$work/schema.err" || {
  cat "$work/schema.err" >&2
  exit 1
}
# tfplugindocs looks the provider up by its short name (or under the hashicorp namespace).
sed 's#"registry.terraform.io/serverless-blueprint/blueprint"#"blueprint"#' "$work/schema-full.json" >"$work/schema.json"
grep -q '"blueprint"' "$work/schema.json" || {
  echo "tfdocs: the provider schema does not contain the blueprint provider" >&2
  exit 1
}

# Render from a copy of the inputs so --check never touches the tree and generate only
# replaces docs/terraform.
site="$work/site"
mkdir -p "$site"
cp -R "$root/examples" "$site/examples"
[ -d "$root/templates" ] && cp -R "$root/templates" "$site/templates"
"$work/tfplugindocs" generate \
  --provider-dir "$site" \
  --provider-name blueprint \
  --providers-schema "$work/schema.json" \
  --rendered-website-dir "$out_rel" \
  --examples-dir examples >"$work/tfplugindocs.log" 2>&1 || {
  cat "$work/tfplugindocs.log" >&2
  exit 1
}

if [ "$mode" = check ]; then
  if ! diff -ruN "$root/$out_rel" "$site/$out_rel"; then
    echo "tfdocs: $out_rel is stale; run tools/gen-tfdocs.sh (or make generate) and commit the result" >&2
    exit 1
  fi
  echo "tfdocs: $out_rel is up to date" >&2
  exit 0
fi

rm -rf "${root:?}/$out_rel"
mkdir -p "$(dirname "$root/$out_rel")"
cp -R "$site/$out_rel" "$root/$out_rel"
echo "tfdocs: wrote $out_rel" >&2
