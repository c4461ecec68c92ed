package engine_test

import (
	"os"
	"testing"

	"github.com/serverless-blueprint/blueprint/platform/wasm/internal/wasmtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	wasmtest.Cleanup()
	os.Exit(code)
}
