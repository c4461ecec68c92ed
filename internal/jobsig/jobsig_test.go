package jobsig

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for src, want := range map[string]string{
		"func Ok(ctx context.Context, in In) (Out, error)":                     "",
		"func Stateful(ctx context.Context, st job.State, in In) (Out, error)": "stateful",
		"func lower(ctx context.Context, in In) (Out, error)":                  "must be exported",
		"func Gen[T any](ctx context.Context, in T) (Out, error)":              "is generic",
		"func One(ctx context.Context) (Out, error)":                           "takes 1 parameter(s)",
		"func Many(ctx context.Context, a, b, c In) (Out, error)":              "takes 4 parameter(s)",
		"func Var(ctx context.Context, in ...In) (Out, error)":                 "is variadic",
		"func Second(ctx context.Context, x int, in In) (Out, error)":          "must be job.State, not int",
		"func NoInput(ctx context.Context, st job.State) (Out, error)":         "takes job.State but no input",
		"func OneResult(ctx context.Context, in In) error":                     "returns 1 values",
	} {
		f, err := parser.ParseFile(token.NewFileSet(), "x.go", "package x\n"+src+" { panic(0) }", 0)
		if err != nil {
			t.Fatal(err)
		}
		stateful, p := Check(f.Decls[0].(*ast.FuncDecl), SyntaxIsState("job"))
		switch {
		case want == "" || want == "stateful":
			if p != nil || stateful != (want == "stateful") {
				t.Errorf("%s: stateful %v, problem %v", src, stateful, p)
			}
		case p == nil || !strings.Contains(p.Message, want):
			t.Errorf("%s: problem %v, want %q", src, p, want)
		}
	}
}
