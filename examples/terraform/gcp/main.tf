# Deploy every job of the quickstart package to Google Cloud Functions (2nd gen) in two
# regions, with the state of stateful jobs in a Firestore collection shared by the functions
# and the runtime agent.
#
# Credentials are Application Default Credentials (gcloud auth application-default login, or
# the VM's service account), or `credentials_file`. Plan checks them first by listing each
# region's functions and the runtimes they offer. Applying needs roles/cloudfunctions.developer
# on the project and roles/iam.serviceAccountUser on the functions' service account.
#
# The functions run as a dedicated service account. Leave `service_account` unset and Blueprint
# creates blueprint-functions@PROJECT.iam.gserviceaccount.com on the first apply, grants it
# roles/datastore.user on the state store's project once a stateful job is deployed (nothing for
# stateless jobs), and deletes it, grant first, with the last function that runs as it; that
# needs roles/iam.serviceAccountAdmin and, for the grant, roles/resourcemanager.projectIamAdmin
# on the store's project. Or name an account you made (never the default compute account) and
# grant it roles/datastore.user yourself when jobs keep state. `invokers` get roles/run.invoker
# on every function (the runtime agent's identity); granting it needs
# run.services.setIamPolicy (roles/run.admin on the functions' services).
#
# `endpoint` points the provider at a stand-in for Google's APIs instead (the acceptance tests'
# control plane, in test code).

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

variable "project" {
  description = "Google Cloud project ID."
  type        = string
}

variable "regions" {
  description = "Regions to deploy every job to."
  type        = list(string)
  default     = ["us-central1", "europe-west1"]
}

variable "service_account" {
  description = "Email of an existing service account the functions run as; null = the one Blueprint creates and manages."
  type        = string
  default     = null
}

variable "agent_identity" {
  description = "IAM member the runtime agent calls as, e.g. serviceAccount:agent@PROJECT.iam.gserviceaccount.com."
  type        = string
}

provider "blueprint" {
  platforms   = ["gcp_functions"]
  state_store = "firestore://${var.project}/blueprint-state"

  gcp_functions {
    project         = var.project
    regions         = var.regions
    service_account = var.service_account
    invokers        = [var.agent_identity]
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

output "deployments" {
  value = { for name, j in blueprint_job.job : name => j.deployments }
}
