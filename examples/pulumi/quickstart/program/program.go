// Package program is the quickstart's Pulumi program: every job of the quickstart package,
// deployed to the wasm hosts named in the stack's configuration. main.go runs it under
// `pulumi up`; the driver runs the same program through the automation API.
package program

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/serverless-blueprint/blueprint/sdk/go/blueprint"
)

// Run declares the provider and one Job per job the package holds (getJobs lists them, as
// the Terraform quickstart's blueprint_jobs data source does).
func Run(ctx *pulumi.Context) error {
	cfg := config.New(ctx, "")
	jobsDir := cfg.Get("jobsDir")
	if jobsDir == "" {
		jobsDir = "../../terraform/quickstart/jobs"
	}
	var hosts map[string]string
	if err := json.Unmarshal([]byte(cfg.Require("hosts")), &hosts); err != nil {
		return fmt.Errorf("config hosts: want a JSON object of region to URL: %w", err)
	}
	hostMap := pulumi.StringMap{}
	for region, url := range hosts {
		hostMap[region] = pulumi.String(url)
	}
	args := &blueprint.ProviderArgs{
		Wasm: &blueprint.WasmSettingsArgs{Hosts: hostMap, Token: cfg.RequireSecret("hostToken")},
	}
	if store := cfg.Get("artifactStore"); store != "" {
		args.ArtifactStore = pulumi.String(store)
	}
	if store := cfg.Get("stateStore"); store != "" {
		args.StateStore = pulumi.String(store)
	}
	prov, err := blueprint.NewProvider(ctx, "blueprint", args)
	if err != nil {
		return err
	}
	jobs, err := blueprint.GetJobs(ctx, &blueprint.GetJobsArgs{Package: jobsDir}, pulumi.Provider(prov))
	if err != nil {
		return err
	}
	names := pulumi.StringArray{}
	for _, j := range jobs.Jobs {
		job, err := blueprint.NewJob(ctx, j.Name, &blueprint.JobArgs{
			Package:  pulumi.String(jobsDir),
			Function: pulumi.String(j.Function),
		}, pulumi.Provider(prov))
		if err != nil {
			return err
		}
		names = append(names, job.Name)
		ctx.Export(j.Name+"Eligible", job.Eligible)
	}
	ctx.Export("jobs", names)
	return nil
}
