// Command terraform-provider-blueprint is the Blueprint Terraform provider plugin. Terraform
// starts it; run it with -debug to attach a debugger (it prints TF_REATTACH_PROVIDERS).
package main

import (
	"context"
	"flag"
	"log"
	"os"

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
	quietUnreadLogs()

	// A silent failure here shows up in terraform only as "Unrecognized remote plugin
	// message", so report it on stderr, which terraform relays.
	if err := providerserver.Serve(context.Background(), terraform.New(version), providerserver.ServeOpts{
		Address: address,
		Debug:   debug,
	}); err != nil {
		log.Fatalf("terraform-provider-blueprint: %v", err)
	}
}

// quietUnreadLogs turns the plugin SDK's loggers off when terraform will discard what they
// write. Terraform keeps a provider's logs only when TF_LOG or TF_LOG_PROVIDER is set, yet
// terraform-plugin-log formats every trace line regardless: a fifth of the provider's CPU in
// a plan of 100 jobs (docs/performance.md). A level the user set is never overridden.
func quietUnreadLogs() {
	if os.Getenv("TF_LOG") != "" || os.Getenv("TF_LOG_PROVIDER") != "" {
		return
	}
	for _, name := range []string{"TF_LOG_SDK", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_SDK_PROTO", "TF_LOG_PROVIDER_BLUEPRINT"} {
		if os.Getenv(name) == "" {
			os.Setenv(name, "off")
		}
	}
}
