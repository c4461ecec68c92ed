terraform {
  required_providers {
    blueprint = {
      source = "serverless-blueprint/blueprint"
    }
  }
}

# Two `blueprint host` processes stand in for two regions; start them with
#   blueprint host --region local-a --listen 127.0.0.1:8701
#   blueprint host --region local-b --listen 127.0.0.1:8702
# and export the token they print (or chose) as BLUEPRINT_HOST_TOKEN.
provider "blueprint" {
  platforms            = ["wasm"]
  regions              = ["local-a", "local-b"]
  cost_threshold       = 0.5
  latency_threshold_ms = 200

  wasm {
    hosts = {
      "local-a" = "http://127.0.0.1:8701"
      "local-b" = "http://127.0.0.1:8702"
    }
    # token defaults to the environment variable BLUEPRINT_HOST_TOKEN.
  }
}
