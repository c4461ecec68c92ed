# Quickstart: deploy every job of ./jobs to two local function hosts.
#
# `make demo` starts the hosts, fills in the variables and runs this with the real terraform
# CLI. To run it yourself, start two hosts (`blueprint host --listen 127.0.0.1:8701 --region
# local-a --data /tmp/a`, and the same for local-b on 8702), export BLUEPRINT_HOST_TOKEN, and
# `terraform apply`.

terraform {
  required_providers {
    blueprint = {
      source = "serverless-blueprint/blueprint"
    }
  }
}

variable "jobs_dir" {
  description = "Directory of the Go package that holds the jobs."
  type        = string
  default     = "./jobs"
}

variable "hosts" {
  description = "Function host URL per region."
  type        = map(string)
  default = {
    "local-a" = "http://127.0.0.1:8701"
    "local-b" = "http://127.0.0.1:8702"
  }
}

provider "blueprint" {
  platforms = ["wasm"]
  regions   = keys(var.hosts)

  wasm {
    hosts = var.hosts
    # token: taken from BLUEPRINT_HOST_TOKEN
  }
}

# Every job in the package, with its analysis: deploy them all.
data "blueprint_jobs" "all" {
  package = var.jobs_dir
}

resource "blueprint_job" "job" {
  for_each = { for j in data.blueprint_jobs.all.jobs : j.name => j }

  package  = var.jobs_dir
  function = each.value.function
}

output "jobs" {
  description = "Where each job was deployed, and whether the analysis lets it leave the VM."
  value = {
    for name, j in blueprint_job.job : name => {
      eligible    = j.eligible
      pure        = j.analysis.pure
      deployments = [for d in j.deployments : "${d.platform}/${d.region} v${d.version}"]
    }
  }
}
