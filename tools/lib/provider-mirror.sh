# Sourced by tools/demo.sh and tools/bench-scale.sh.
#
# provider_mirror WORK BIN_DIR installs BIN_DIR/terraform-provider-blueprint into a filesystem
# mirror under WORK and points terraform at it (TF_CLI_CONFIG_FILE), so that `terraform init`
# really runs and never asks the registry. (With dev_overrides, init fails offline: it still
# queries the registry for the overridden provider.)
provider_mirror() {
  local work=$1 bin=$2 version=0.1.0
  local mirror="$work/mirror/registry.terraform.io/serverless-blueprint/blueprint/$version/$(go env GOOS)_$(go env GOARCH)"
  mkdir -p "$mirror"
  cp "$bin/terraform-provider-blueprint" "$mirror/terraform-provider-blueprint_v$version"
  cat >"$work/terraformrc" <<EOT
provider_installation {
  filesystem_mirror {
    path    = "$work/mirror"
    include = ["serverless-blueprint/blueprint"]
  }
  direct {
    exclude = ["serverless-blueprint/blueprint"]
  }
}
EOT
  export TF_CLI_CONFIG_FILE="$work/terraformrc"
}
