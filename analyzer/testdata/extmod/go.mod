module example.com/userjobs

go 1.26.8

require github.com/serverless-blueprint/blueprint v0.0.0

replace github.com/serverless-blueprint/blueprint => ../../..
