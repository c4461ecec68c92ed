package awslambda_test

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/internal/lambdatest"
	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/awslambda"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// TestInvokeBatch: one invocation of the real bootstrap (under the emulator) runs a batch
// whose items succeed, fail with a job error, panic and carry an input the job cannot decode;
// each item gets its own result in order, the panic costing no other item. A function not
// configured pure refuses batches (platform.ErrBatchUnsupported) before running anything.
func TestInvokeBatch(t *testing.T) {
	stand := lambdatest.Start(t)
	ctx := context.Background()
	a, dep := testdataDeployer(t, stand, job.Analysis{Name: "choose", Function: "Choose", Pure: true, Eligible: true})
	deploy := func(name string, pure bool) platform.Deployment {
		t.Helper()
		d, err := dep.Deploy(ctx, platform.DeployRequest{Region: "us-east-1", ArtifactPath: a.Path, ArtifactSHA256: a.SHA256,
			Function: platform.Function{Name: name, Entry: "choose", MemoryMB: 128, TimeoutMS: 10_000, Pure: pure}})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	invoker := awslambda.NewInvoker("", testCredentials)
	inputs := [][]byte{[]byte(`{"name":"ada"}`), []byte(`{"name":"refuse"}`), []byte(`{"name":"panic"}`), []byte(`{"name":7}`), []byte(`{"name":"lin"}`)}
	res, err := invoker.InvokeBatch(ctx, deploy("choose", true), inputs)
	if err != nil || len(res) != len(inputs) {
		t.Fatalf("batch: %d results, %v", len(res), err)
	}
	if string(res[0].Output) != `{"name":"ada"}` || string(res[4].Output) != `{"name":"lin"}` || res[0].Err != nil || res[4].Err != nil {
		t.Errorf("successful items: %s %v / %s %v", res[0].Output, res[0].Err, res[4].Output, res[4].Err)
	}
	for i, want := range map[int]string{1: "RefusedError", 2: "string", 3: "InvalidInput"} {
		var fe *platform.FunctionError
		if !errors.As(res[i].Err, &fe) || fe.Type != want {
			t.Errorf("item %d: %v, want a function error of type %s", i, res[i].Err, want)
		}
	}
	if stand.Invocations("choose") != 1 {
		t.Errorf("the batch took %d invocations, want 1", stand.Invocations("choose"))
	}

	_, err = invoker.InvokeBatch(ctx, deploy("choose-impure", false), inputs[:1])
	if !errors.Is(err, platform.ErrBatchUnsupported) {
		t.Fatalf("a batch of a function not configured pure: %v, want ErrBatchUnsupported", err)
	}
}

// TestInvoke_traceReachesJob: the caller's trace travels in the invocation's client context to
// the real bootstrap (under the emulator), whose job runs in it: spans the job makes join it.
func TestInvoke_traceReachesJob(t *testing.T) {
	prev := otel.GetTextMapPropagator()
	otel.SetTextMapPropagator(propagation.TraceContext{}) // as the agent's telemetry.Setup does
	t.Cleanup(func() { otel.SetTextMapPropagator(prev) })
	stand := lambdatest.Start(t)
	ctx := context.Background()
	a, dep := testdataDeployer(t, stand, job.Analysis{Name: "trace_of", Function: "TraceOf", Pure: true, Eligible: true})
	d, err := dep.Deploy(ctx, platform.DeployRequest{Region: "us-east-1", ArtifactPath: a.Path, ArtifactSHA256: a.SHA256,
		Function: platform.Function{Name: "trace-of", Entry: "trace_of", MemoryMB: 128, TimeoutMS: 10_000, Pure: true}})
	if err != nil {
		t.Fatal(err)
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{0x4b, 0xf9, 2}, SpanID: trace.SpanID{9}, TraceFlags: trace.FlagsSampled})
	out, err := awslambda.NewInvoker("", testCredentials).Invoke(trace.ContextWithSpanContext(ctx, sc), d, []byte(`{"name":"x"}`))
	if err != nil || string(out) != `"`+sc.TraceID().String()+`"` {
		t.Fatalf("the job ran in trace %s, want %s (err %v)", out, sc.TraceID(), err)
	}
}

// testdataDeployer builds the testdata/batch package's bootstrap with jobs and returns it and a
// deployer to the stand-in's us-east-1.
func testdataDeployer(t *testing.T, stand *lambdatest.Stand, jobs ...job.Analysis) (platform.Artifact, *awslambda.Deployer) {
	t.Helper()
	ctx := context.Background()
	_, file, _, _ := runtime.Caller(0)
	a, err := awslambda.BuildFor(awslambda.ArchX86_64)(ctx, platform.BuildRequest{Dir: filepath.Join(filepath.Dir(file), "testdata", "batch"), Jobs: jobs})
	if err != nil {
		t.Fatal(err)
	}
	dep, err := awslambda.NewDeployer(ctx, awslambda.Config{Regions: []string{"us-east-1"}, Endpoint: stand.URL,
		Architecture: awslambda.ArchX86_64, Credentials: testCredentials, DeployTimeout: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return a, dep
}
