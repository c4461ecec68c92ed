// Package pulumi is the Pulumi provider (pulumi-go-provider's infer): blueprint:index:Job and
// getJobs over the same engine-neutral lifecycle (resources/) as the Terraform provider.
package pulumi
