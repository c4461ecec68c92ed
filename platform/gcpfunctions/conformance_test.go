package gcpfunctions_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/internal/gcftest"
	"github.com/serverless-blueprint/blueprint/platform/gcpfunctions"
	"github.com/serverless-blueprint/blueprint/platform/platformtest"
)

// testTokens are the ID tokens the control plane's invoke front accepts.
func testTokens(ctx context.Context, audience string) (string, error) {
	return gcftest.IDToken(audience), nil
}

const testProject = "blueprint-test"

// TestConformance runs the platform contract through the real Cloud Functions client library
// against the control-plane stand-in, which builds each source zip the way the Go runtime does
// and runs it under the real functions-framework-go. The functions run as the managed service
// account.
func TestConformance(t *testing.T) {
	cp := gcftest.StartControlPlane(t)
	dep, err := gcpfunctions.NewDeployer(context.Background(), gcpfunctions.Config{Project: testProject,
		Regions: []string{"us-central1", "europe-west1"}, Endpoint: cp.Addr, DeployTimeout: 3 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	platformtest.Run(t, platformtest.Harness{
		Platform: gcpfunctions.Platform(), Deployer: dep, Invoker: gcpfunctions.NewInvoker(testTokens), Region: "us-central1",
		DeleteOutOfBand: func(ctx context.Context, region, functionID string) error {
			cp.DeleteOutOfBand("projects/" + testProject + "/locations/" + region + "/functions/" + gcpfunctions.FunctionID(functionID))
			return nil
		},
		Throttle: func(t *testing.T, region, functionID string, retryAfter time.Duration) func() {
			return cp.Throttle(gcpfunctions.FunctionID(functionID), retryAfter)
		},
	})
}

func TestFunctionID(t *testing.T) {
	for job, want := range map[string]string{
		"greet":        "bp-greet",
		"resize_image": "bp-resize-image",
	} {
		if got := gcpfunctions.FunctionID(job); got != want {
			t.Errorf("FunctionID(%q) = %q, want %q", job, got, want)
		}
	}
	long := strings.Repeat("a", 70)
	if id := gcpfunctions.FunctionID(long); len(id) > 63 || id == gcpfunctions.FunctionID(long+"b") {
		t.Errorf("long names: %q (%d characters) must be shortened without colliding", id, len(id))
	}
	if id := gcpfunctions.FunctionID("trailing_"); strings.HasSuffix(id, "-") {
		t.Errorf("an ID may not end with a hyphen: %q", id)
	}
}
