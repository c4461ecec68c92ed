# Every job of a package, with its analysis: deploy the eligible ones with for_each.
data "blueprint_jobs" "images" {
  package = "${path.module}/jobs/images"
}

resource "blueprint_job" "images" {
  for_each = { for j in data.blueprint_jobs.images.jobs : j.name => j if j.eligible }

  package  = data.blueprint_jobs.images.package
  function = each.value.function
}
