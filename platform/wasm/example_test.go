package wasm_test

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/serverless-blueprint/blueprint/platform"
	"github.com/serverless-blueprint/blueprint/platform/wasm"
)

// Deploy a built module to the host of one region and invoke it.
func ExampleClient() {
	c, err := wasm.NewClient(wasm.Config{
		Hosts: map[string]string{"local-a": "http://127.0.0.1:8701"},
		Token: os.Getenv("BLUEPRINT_HOST_TOKEN"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	d, err := c.Deploy(ctx, platform.DeployRequest{
		Region:         "local-a",
		Function:       platform.Function{Name: "greet", Entry: "greet", Pure: true, TimeoutMS: 5000},
		ArtifactPath:   "/path/to/<sha256>.wasm",
		ArtifactSHA256: "<sha256 printed by blueprint build>",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := c.Invoke(ctx, d, []byte(`{"name":"ada"}`))
	var jobErr *platform.FunctionError
	switch {
	case errors.As(err, &jobErr):
		fmt.Println("the job failed:", jobErr.Type, jobErr.Message)
	case err != nil:
		fmt.Println("the platform failed:", err)
	default:
		fmt.Println(string(out))
	}
}
