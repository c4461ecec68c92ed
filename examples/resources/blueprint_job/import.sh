# Import a deployed job by its name (the directive's name= option, or the snake_case
# function name); its package and function are read back from the function's tags.
terraform import blueprint_job.resize_image resize_image
