// Command pulumi-resource-blueprint is the Blueprint Pulumi provider plugin; `pulumi up`
// starts it.
package main

import (
	"context"
	"fmt"
	"os"

	p "github.com/pulumi/pulumi-go-provider"

	"github.com/serverless-blueprint/blueprint/platform/builtin"
	pulumiprovider "github.com/serverless-blueprint/blueprint/provider/pulumi"
)

// version is set at release with -ldflags "-X main.version=…".
var version = "0.1.0"

func main() {
	prov, err := pulumiprovider.New(builtin.Registry())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := p.RunProvider(context.Background(), pulumiprovider.Name, version, prov); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
