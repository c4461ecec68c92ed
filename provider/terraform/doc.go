// Package terraform is the Blueprint Terraform provider (plugin framework, protocol 6): the
// blueprint_job resource and blueprint_jobs data source, thin adapters over package resources.
package terraform
