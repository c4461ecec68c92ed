package terraform

import "fmt"

// greetSource is a pure, eligible job package; greeting changes its code.
func greetSource(greeting string) map[string]string {
	return map[string]string{"greet.go": fmt.Sprintf(`package greet

import "context"

type Request struct {
	Name string `+"`json:\"name\"`"+`
}

type Reply struct {
	Greeting string `+"`json:\"greeting\"`"+`
}

//blueprint:job
func Greet(ctx context.Context, in Request) (Reply, error) {
	return Reply{Greeting: %q + in.Name}, nil
}

// Helper has no directive: planning a job for it must fail with a clear message.
func Helper(ctx context.Context, in Request) (Reply, error) {
	return Reply{}, nil
}
`, greeting)}
}

// countSource is a second package with two jobs, for the code-change and data source tests.
var countSource = map[string]string{"count.go": `package count

import (
	"context"
	"strings"
)

type Text struct {
	Text string ` + "`json:\"text\"`" + `
}

type Count struct {
	N int ` + "`json:\"n\"`" + `
}

//blueprint:job
func CountWords(ctx context.Context, in Text) (Count, error) {
	return Count{N: len(strings.Fields(in.Text))}, nil
}

//blueprint:job name=count_bytes memory=256
func CountBytes(ctx context.Context, in Text) (Count, error) {
	return Count{N: len(in.Text)}, nil
}
`}
