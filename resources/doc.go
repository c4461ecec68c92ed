// Package resources is the engine-neutral lifecycle of a Blueprint job (plan, create, read,
// update, delete, import); the Terraform and Pulumi providers are thin adapters over it.
package resources
