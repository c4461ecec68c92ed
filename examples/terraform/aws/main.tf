# Deploy every job of the quickstart package to AWS Lambda in two regions, with the state of
# stateful jobs in a DynamoDB table shared by the functions and the runtime agent.
#
# Credentials come from the AWS SDK's default chain (environment, shared config and profile,
# SSO, instance or task role), optionally through `assume_role`. Plan and apply check them
# first (sts:GetCallerIdentity, which needs no permission, and lambda:ListFunctions in every
# region). Applying needs, on the functions: lambda:CreateFunction, GetFunction,
# UpdateFunctionCode, UpdateFunctionConfiguration, PublishVersion, CreateAlias, GetAlias,
# UpdateAlias, DeleteFunction, TagResource, ListFunctions; for the managed execution role:
# iam:GetRole, CreateRole, PutRolePolicy, PassRole, ListRoleTags, TagRole, and to remove it with
# the last function, ListRolePolicies, DeleteRolePolicy, DeleteRole (or set `role` to an existing
# one); for the state table: dynamodb:CreateTable, DescribeTable; with `artifact_bucket`:
# s3:ListBucket, GetObject, PutObject on it. `endpoint` points everything at a stand-in such as
# moto instead (the acceptance tests do that).

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
  default     = "../quickstart/jobs"
}

variable "regions" {
  description = "AWS regions to deploy every job to."
  type        = list(string)
  default     = ["us-east-1", "eu-west-1"]
}

variable "endpoint" {
  description = "A stand-in for AWS's endpoints (moto); null for AWS."
  type        = string
  default     = null
}

variable "state_table" {
  description = "DynamoDB table for the state of stateful jobs (created on the first deploy of one)."
  type        = string
  default     = "blueprint-state"
}

locals {
  state_store = "dynamodb://${var.state_table}?region=${var.regions[0]}${var.endpoint == null ? "" : "&endpoint=${var.endpoint}"}"
}

provider "blueprint" {
  platforms   = ["aws_lambda"]
  state_store = local.state_store

  aws_lambda {
    regions  = var.regions
    endpoint = var.endpoint
    # architecture = "x86_64"  # arm64 (Graviton) by default
    # role         = "arn:aws:iam::123456789012:role/my-lambda-role"
    # assume_role  = "arn:aws:iam::123456789012:role/deployer"
    # artifact_bucket = "my-artifacts-{region}"  # for zips over 50 MB; one bucket per region
  }
}

data "blueprint_jobs" "all" {
  package = var.jobs_dir
}

resource "blueprint_job" "job" {
  for_each = { for j in data.blueprint_jobs.all.jobs : j.name => j }

  package  = var.jobs_dir
  function = each.value.function
}

output "jobs" {
  description = "Where each job runs: its Lambda functions, or only on the VM."
  value = {
    for name, j in blueprint_job.job : name => {
      eligible    = j.eligible
      state_store = j.state_store
      deployments = [for d in j.deployments : "${d.platform}/${d.region} v${d.version}"]
    }
  }
}
