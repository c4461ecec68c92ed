// Command terraform-provider-blueprint is the Blueprint Terraform provider plugin. Terraform
// starts it; run it with -debug to attach a debugger (it prints TF_REATTACH_PROVIDERS).
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/serverless-blueprint/blueprint/provider/terraform"
)

// version is set at release time with -ldflags "-X main.version=...".
var version = "dev"

// Address is the provider's source address; terraform matches it against required_providers.
const address = "registry.terraform.io/serverless-blueprint/blueprint"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider in debug mode for debuggers such as delve")
	flag.Parse()

	// A silent failure here shows up in terraform only as "Unrecognized remote plugin
	// message", so report it on stderr, which terraform relays.
	if err := providerserver.Serve(context.Background(), terraform.New(version), providerserver.ServeOpts{
		Address: address,
		Debug:   debug,
	}); err != nil {
		log.Fatalf("terraform-provider-blueprint: %v", err)
	}
}
