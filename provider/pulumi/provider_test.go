package pulumi_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/blang/semver"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
	presource "github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/serverless-blueprint/blueprint/platform/builtin"
	pulumiprovider "github.com/serverless-blueprint/blueprint/provider/pulumi"
)

// server is the provider behind pulumi-go-provider's integration harness (the gRPC surface
// the engine talks to, in-process), configured for the world's two wasm hosts.
func (w *world) server(extra map[string]property.Value) integration.Server {
	w.t.Helper()
	prov, err := pulumiprovider.New(builtin.Registry())
	if err != nil {
		w.t.Fatal(err)
	}
	s, err := integration.NewServer(context.Background(), pulumiprovider.Name, semver.MustParse("0.1.0"), integration.WithProvider(prov))
	if err != nil {
		w.t.Fatal(err)
	}
	hosts := map[string]property.Value{}
	for r, u := range w.hosts {
		hosts[r] = property.New(u)
	}
	args := map[string]property.Value{
		"artifactStore": property.New(w.store),
		"stateStore":    property.New("sqlite://" + w.states),
		"wasm": property.New(property.NewMap(map[string]property.Value{
			"hosts": property.New(property.NewMap(hosts)),
			"token": property.New(w.token),
		})),
	}
	for k, v := range extra {
		if v.IsNull() {
			delete(args, k) // a null drops a default setting
			continue
		}
		args[k] = v
	}
	if err := s.Configure(p.ConfigureRequest{Args: property.NewMap(args)}); err != nil {
		w.t.Fatalf("configure: %v", err)
	}
	return s
}

var jobURN = presource.NewURN("test", "blueprint", "", "blueprint:index:Job", "greet")

func jobInputs(dir string, extra map[string]property.Value) property.Map {
	in := map[string]property.Value{"package": property.New(dir), "function": property.New("Greet")}
	for k, v := range extra {
		in[k] = v
	}
	return property.NewMap(in)
}

// TestJobLifecycle: through the engine's gRPC surface, a preview analyzes and touches nothing,
// create deploys to both hosts (environment kept secret), an unchanged job diffs clean, a code
// change is an in-place update that redeploys, a new package replaces, and delete leaves the
// hosts empty.
func TestJobLifecycle(t *testing.T) {
	w := newWorld(t)
	s := w.server(nil)
	dir := w.writeModule("greet", greetSource("hello "))
	inputs := jobInputs(dir, map[string]property.Value{
		"environment": property.New(property.NewMap(map[string]property.Value{"GREETING_STYLE": property.New("warm")})),
	})
	check, err := s.Check(p.CheckRequest{Urn: jobURN, Inputs: inputs})
	if err != nil || len(check.Failures) > 0 {
		t.Fatalf("check: %v %v", check.Failures, err)
	}

	preview, err := s.Create(p.CreateRequest{Urn: jobURN, Properties: check.Inputs, DryRun: true})
	if err != nil {
		t.Fatalf("preview: %v", err)
	}
	if got := preview.Properties.Get("analysis").AsMap().Get("eligible"); !got.AsBool() {
		t.Fatalf("the preview shows no analysis: %v", preview.Properties)
	}
	for _, r := range regions {
		if fns := w.functions(r); len(fns) != 0 {
			t.Fatalf("a preview deployed %v to %s", fns, r)
		}
	}

	created, err := s.Create(p.CreateRequest{Urn: jobURN, Properties: check.Inputs})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.ID != "greet" {
		t.Fatalf("id %q, want the job name", created.ID)
	}
	if deps := created.Properties.Get("deployments").AsArray(); deps.Len() != 2 {
		t.Fatalf("deployments: %v", deps)
	}
	if env := created.Properties.Get("environment"); !env.Secret() {
		t.Fatalf("the environment must be a secret in the state: %v", env)
	}
	for _, r := range regions {
		if fns := w.functions(r); !slices.Equal(fns, []string{"greet"}) {
			t.Fatalf("%s holds %v after create", r, fns)
		}
	}

	diff, err := s.Diff(p.DiffRequest{ID: created.ID, Urn: jobURN, State: created.Properties, Inputs: check.Inputs})
	if err != nil || diff.HasChanges {
		t.Fatalf("an unchanged job must diff clean: %+v, %v", diff, err)
	}

	// The engine starts the provider for each operation, and the provider analyzes a package
	// once per process: the next `pulumi up` after a code change is a new provider.
	w.writeModule("greet", greetSource("good morning "))
	s = w.server(nil)
	diff, err = s.Diff(p.DiffRequest{ID: created.ID, Urn: jobURN, State: created.Properties, Inputs: check.Inputs})
	if err != nil || !diff.HasChanges || diff.DetailedDiff["sourceHash"].Kind != p.Update {
		t.Fatalf("a code change must be an in-place update of sourceHash: %+v, %v", diff, err)
	}
	updated, err := s.Update(p.UpdateRequest{ID: created.ID, Urn: jobURN, State: created.Properties, Inputs: check.Inputs})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if updated.Properties.Get("sourceHash").AsString() == created.Properties.Get("sourceHash").AsString() {
		t.Fatal("the update recorded the old source hash")
	}
	diff, err = s.Diff(p.DiffRequest{ID: created.ID, Urn: jobURN, State: updated.Properties, Inputs: check.Inputs})
	if err != nil || diff.HasChanges {
		t.Fatalf("after the update the job must diff clean: %+v, %v", diff, err)
	}

	moved := jobInputs(w.writeModule("greet2", greetSource("hi ")), nil)
	diff, err = s.Diff(p.DiffRequest{ID: created.ID, Urn: jobURN, State: updated.Properties, Inputs: moved})
	if err != nil || diff.DetailedDiff["package"].Kind != p.UpdateReplace {
		t.Fatalf("a new package must replace the job: %+v, %v", diff, err)
	}

	if err := s.Delete(p.DeleteRequest{ID: created.ID, Urn: jobURN, Properties: updated.Properties}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	for _, r := range regions {
		if fns := w.functions(r); len(fns) != 0 {
			t.Fatalf("%s still holds %v after delete", r, fns)
		}
	}
}

// TestJobPartialCreate: with one host refusing deploys, create records the job as deployed
// where it is (the engine gets ResourceInitFailed with that state) instead of losing the
// function that exists; the next update finishes the job.
func TestJobPartialCreate(t *testing.T) {
	w := newWorld(t)
	s := w.server(nil)
	dir := w.writeModule("greet", greetSource("hello "))
	check, err := s.Check(p.CheckRequest{Urn: jobURN, Inputs: jobInputs(dir, nil)})
	if err != nil {
		t.Fatal(err)
	}
	w.down["local-b"].Store(true)
	created, err := s.Create(p.CreateRequest{Urn: jobURN, Properties: check.Inputs})
	if created.PartialState == nil {
		t.Fatalf("a create that failed in one region must report a partial state: %+v, %v", created, err)
	}
	state := created.Properties
	if deps := state.Get("deployments").AsArray(); deps.Len() != 1 || deps.Get(0).AsMap().Get("region").AsString() != "local-a" {
		t.Fatalf("the partial state must hold the local-a function: %v", deps)
	}
	if !strings.Contains(strings.Join(created.PartialState.Reasons, " "), "local-b") {
		t.Fatalf("the reasons must name the failed region: %v", created.PartialState.Reasons)
	}
	w.down["local-b"].Store(false)
	updated, err := s.Update(p.UpdateRequest{ID: "greet", Urn: jobURN, State: state, Inputs: check.Inputs})
	if err != nil {
		t.Fatalf("the update after a partial create: %v", err)
	}
	if deps := updated.Properties.Get("deployments").AsArray(); deps.Len() != 2 {
		t.Fatalf("the update must finish the job: %v", deps)
	}
}

// TestBadConfiguration: configuration errors name the setting as Pulumi spells it.
func TestBadConfiguration(t *testing.T) {
	prov, err := pulumiprovider.New(builtin.Registry())
	if err != nil {
		t.Fatal(err)
	}
	s, err := integration.NewServer(context.Background(), pulumiprovider.Name, semver.MustParse("0.1.0"), integration.WithProvider(prov))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Configure(p.ConfigureRequest{Args: property.NewMap(map[string]property.Value{
		"platforms": property.New(property.NewArray([]property.Value{property.New("aws_lambda")})),
		"awsLambda": property.New(property.NewMap(map[string]property.Value{
			"regions":      property.New(property.NewArray([]property.Value{property.New("us-east-1")})),
			"architecture": property.New("sparc"),
		})),
	})})
	if err == nil || !strings.Contains(err.Error(), "blueprint:awsLambda.architecture") || !strings.Contains(err.Error(), `use "arm64" or "x86_64"`) {
		t.Fatalf("error = %v", err)
	}
}

// TestJobImport: `pulumi import blueprint:index:Job greet greet` reads the job back from the
// tags on its functions: package, function and where it is deployed.
func TestJobImport(t *testing.T) {
	w := newWorld(t)
	s := w.server(nil)
	dir := w.writeModule("greet", greetSource("hello "))
	check, err := s.Check(p.CheckRequest{Urn: jobURN, Inputs: jobInputs(dir, nil)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(p.CreateRequest{Urn: jobURN, Properties: check.Inputs}); err != nil {
		t.Fatal(err)
	}
	read, err := s.Read(p.ReadRequest{ID: "greet", Urn: jobURN})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	if read.ID != "greet" || read.Inputs.Get("package").AsString() != dir || read.Inputs.Get("function").AsString() != "Greet" {
		t.Fatalf("imported inputs: %v (id %q)", read.Inputs, read.ID)
	}
	if deps := read.Properties.Get("deployments").AsArray(); deps.Len() != 2 {
		t.Fatalf("imported deployments: %v", deps)
	}
	if _, err := s.Read(p.ReadRequest{ID: "nope", Urn: jobURN}); err == nil || !strings.Contains(err.Error(), `no function named "nope"`) {
		t.Fatalf("importing an unknown job: %v", err)
	}
}
