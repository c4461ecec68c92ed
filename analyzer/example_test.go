package analyzer_test

import (
	"context"
	"fmt"
	"log"

	"github.com/serverless-blueprint/blueprint/analyzer"
)

func ExampleNew() {
	// The package may live in the user's own module; the go command finds its go.mod.
	pa, err := analyzer.New().Analyze(context.Background(), "testdata/extmod/images")
	if err != nil {
		log.Fatal(err)
	}
	for _, j := range pa.Jobs {
		fmt.Printf("%s pure=%t deterministic=%t eligible=%t network=%v\n", j.Name, j.Pure, j.Deterministic, j.Eligible, j.NetworkCalls)
	}
	// Output:
	// resize_image pure=true deterministic=true eligible=true network=[]
	// fetch pure=false deterministic=false eligible=true network=[images.example.net]
}
