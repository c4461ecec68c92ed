package packager_test

import (
	"strings"
	"testing"

	"github.com/serverless-blueprint/blueprint/packager"
	"github.com/serverless-blueprint/blueprint/platform/wasm"
)

// The wrapper template is the guest half of the ABI in platform/wasm/abi.go; keep them in step.
func TestWrapperMatchesRuntimeABI(t *testing.T) {
	if packager.ABIVersionForTest != wasm.ABIVersion {
		t.Fatalf("packager ABI %d, runtime ABI %d", packager.ABIVersionForTest, wasm.ABIVersion)
	}
	for _, want := range []string{
		"//go:wasmexport " + wasm.ExportAlloc,
		"//go:wasmexport " + wasm.ExportInvoke,
		"//go:wasmexport " + wasm.ExportABIVersion,
		"//go:wasmexport " + wasm.ExportJobs,
		"//go:wasmimport " + wasm.HostModule + " " + wasm.ImportStateGet,
		"//go:wasmimport " + wasm.HostModule + " " + wasm.ImportStatePut,
		`"` + wasm.ErrorTypePanic + `"`,
		`"` + wasm.ErrorTypeInvalidInput + `"`,
		`"` + wasm.ErrorTypeOutput + `"`,
	} {
		if !strings.Contains(packager.WrapperTemplateForTest, want) {
			t.Errorf("wrapper template lacks %s", want)
		}
	}
}
