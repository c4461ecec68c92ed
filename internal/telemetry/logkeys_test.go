package telemetry

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// snakeCase is the one form of a log line's keys, in every binary: what a log query names.
var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// TestLogKeysAreSnakeCase reads every non-test Go file of the module and checks the literal
// keys of its log calls: go-hclog's Trace…Error(msg, key, value, …) and With(key, value, …),
// tracelog.KV(ctx, key, value, …) and the agent's traced (the same), and the map keys of tflog's field maps.
func TestLogKeysAreSnakeCase(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var keys int
	check := func(e ast.Expr) {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return // a key computed at run time: not checked here
		}
		keys++
		if k, _ := strconv.Unquote(lit.Value); !snakeCase.MatchString(k) {
			t.Errorf("%v: log key %q is not snake_case", fset.Position(lit.Pos()), k)
		}
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (name == "testdata" || strings.HasPrefix(name, ".") || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			first := -1 // the argument where key-value pairs start
			switch fn := call.Fun.(type) {
			case *ast.Ident:
				if fn.Name == "traced" {
					first = 1
				}
			case *ast.SelectorExpr:
				switch fn.Sel.Name {
				case "Trace", "Debug", "Info", "Warn", "Error":
					if x, ok := fn.X.(*ast.Ident); ok && x.Name == "tflog" && len(call.Args) == 3 {
						if m, ok := call.Args[2].(*ast.CompositeLit); ok {
							for _, el := range m.Elts {
								if kv, ok := el.(*ast.KeyValueExpr); ok {
									check(kv.Key)
								}
							}
						}
						return true
					}
					// A logger's call has a literal message first (t.Error and friends in
					// other code may not; their arguments are no key-value pairs).
					if len(call.Args) > 1 {
						if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							first = 1
						}
					}
				case "With":
					first = 0
				case "KV": // tracelog.KV(ctx, key, value, …)
					first = 1
				}
			}
			if first < 0 {
				return true
			}
			for i := first; i < len(call.Args); i += 2 {
				check(call.Args[i])
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if keys < 100 { // the walk found the module's log calls, not an empty tree
		t.Fatalf("only %d log keys found under %s", keys, root)
	}
}
