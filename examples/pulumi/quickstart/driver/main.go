// Command driver runs the quickstart's Pulumi program through the automation API, the way
// `make demo-pulumi` does: `driver up` previews and deploys, then writes the stack export
// (secrets shown, mode 0600) for the runtime agent; `driver destroy` removes everything and
// the stack. The pulumi CLI and pulumi-resource-blueprint must be on PATH.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/serverless-blueprint/blueprint/examples/pulumi/quickstart/program"
)

func main() {
	backend := flag.String("backend", "", "directory of the file:// state backend (required)")
	stackName := flag.String("stack", "dev", "stack name")
	hosts := flag.String("hosts", "", `wasm hosts by region, as JSON: {"local-a":"http://127.0.0.1:8701"}`)
	token := flag.String("token", os.Getenv("BLUEPRINT_HOST_TOKEN"), "the hosts' bearer token (default $BLUEPRINT_HOST_TOKEN)")
	jobs := flag.String("jobs", "", "directory of the jobs package")
	artifactStore := flag.String("artifact-store", "", "artifact store directory (default: the user cache)")
	stateStore := flag.String("state-store", "", "state store URL (default: the user data directory)")
	export := flag.String("export", "", "after up, write the stack export here for blueprint-agent --state")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: driver [flags] up|destroy\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 || *backend == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(context.Background(), flag.Arg(0), *backend, *stackName, map[string]string{
		"hosts": *hosts, "jobsDir": *jobs, "artifactStore": *artifactStore, "stateStore": *stateStore,
	}, *token, *export); err != nil {
		fmt.Fprintln(os.Stderr, "driver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, command, backend, stackName string, cfg map[string]string, token, export string) error {
	if os.Getenv("PULUMI_CONFIG_PASSPHRASE") == "" && os.Getenv("PULUMI_CONFIG_PASSPHRASE_FILE") == "" {
		return fmt.Errorf("set PULUMI_CONFIG_PASSPHRASE: the stack's secrets (the host token, the jobs' environment) are encrypted with it")
	}
	stack, err := auto.UpsertStackInlineSource(ctx, stackName, "blueprint-quickstart", program.Run,
		auto.EnvVars(map[string]string{"PULUMI_BACKEND_URL": "file://" + backend}))
	if err != nil {
		return fmt.Errorf("opening stack %s: %w", stackName, err)
	}
	switch command {
	case "up":
		for k, v := range cfg {
			if v != "" {
				if err := stack.SetConfig(ctx, k, auto.ConfigValue{Value: v}); err != nil {
					return err
				}
			}
		}
		if err := stack.SetConfig(ctx, "hostToken", auto.ConfigValue{Value: token, Secret: true}); err != nil {
			return err
		}
		res, err := stack.Up(ctx, optup.ProgressStreams(os.Stdout))
		if err != nil {
			return fmt.Errorf("up: %w", err)
		}
		fmt.Printf("up: %v\n", *res.Summary.ResourceChanges)
		if export == "" {
			return nil
		}
		dep, err := stack.Export(ctx)
		if err != nil {
			return err
		}
		raw, err := json.Marshal(dep)
		if err != nil {
			return err
		}
		return os.WriteFile(export, raw, 0o600)
	case "destroy":
		_, err := stack.Destroy(ctx, optdestroy.ProgressStreams(os.Stdout), optdestroy.Remove())
		return err
	default:
		return fmt.Errorf("unknown command %q: use up or destroy", command)
	}
}
