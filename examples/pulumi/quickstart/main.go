// Command quickstart is the Pulumi program of examples/pulumi/quickstart: `pulumi up` in this
// directory runs it (see README.md there).
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/serverless-blueprint/blueprint/examples/pulumi/quickstart/program"
)

func main() { pulumi.Run(program.Run) }
