# A job is a plain Go function marked //blueprint:job in the package at `package`.
# Terraform analyzes it at plan time and, when it is eligible, builds and deploys it
# to every region; a code change shows up as an in-place update.
resource "blueprint_job" "resize_image" {
  package  = "${path.module}/jobs/images"
  function = "ResizeImage"
}

# Overrides: more memory, a longer timeout, one region, and environment variables.
resource "blueprint_job" "tally" {
  package   = "${path.module}/jobs/votes"
  function  = "Tally"
  memory_mb = 512
  timeout_s = 30
  regions   = ["local-a"]

  environment = {
    LOG_LEVEL = "info"
  }
}

output "resize_image_is_pure" {
  value = blueprint_job.resize_image.analysis.pure
}
