package pulumi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/serverless-blueprint/blueprint/platform/wasm/host"
)

var regions = []string{"local-a", "local-b"}

// world is one test's surroundings: two wasm hosts in-process on 127.0.0.1, a workspace of job
// packages, an artifact store and a state store.
type world struct {
	t      *testing.T
	token  string
	hosts  map[string]string // region -> base URL
	down   map[string]*atomic.Bool
	work   string
	store  string
	states string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, token: fmt.Sprintf("pulumi-%d", time.Now().UnixNano()), hosts: map[string]string{}, down: map[string]*atomic.Bool{},
		work: t.TempDir(), store: t.TempDir(), states: filepath.Join(t.TempDir(), "state.db")}
	for _, region := range regions {
		h, err := host.New(context.Background(), host.Config{Region: region, DataDir: t.TempDir(), Token: w.token, Logger: hclog.NewNullLogger()})
		if err != nil {
			t.Fatalf("starting host %s: %v", region, err)
		}
		down := new(atomic.Bool)
		w.down[region] = down
		handler := h.Handler()
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if down.Load() && r.Method == http.MethodPut {
				http.Error(rw, `{"error":{"code":"storage","message":"storing function: disk full"}}`, http.StatusInternalServerError)
				return
			}
			handler.ServeHTTP(rw, r)
		}))
		t.Cleanup(func() {
			srv.Close()
			_ = h.Close(context.Background())
		})
		w.hosts[region] = srv.URL
	}
	return w
}

// functions lists the functions a region's host holds, through its admin API.
func (w *world) functions(region string) []string {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, w.hosts[region]+"/v1/functions", nil)
	req.Header.Set("Authorization", "Bearer "+w.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct{ Functions []host.Function }
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		w.t.Fatal(err)
	}
	names := []string{}
	for _, f := range list.Functions {
		names = append(names, f.Name)
	}
	return names
}

// writeModule writes a job package as its own Go module in the workspace and returns its
// directory; writing it again is a code change.
func (w *world) writeModule(name string, files map[string]string) string {
	w.t.Helper()
	dir := filepath.Join(w.work, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		w.t.Fatal(err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		w.t.Fatal(err)
	}
	files["go.mod"] = fmt.Sprintf("module example.com/%s\n\ngo 1.26.8\n\nrequire github.com/serverless-blueprint/blueprint v0.0.0\n\nreplace github.com/serverless-blueprint/blueprint => %s\n", name, root)
	for file, content := range files {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
			w.t.Fatal(err)
		}
	}
	return dir
}

// greetSource is a pure, eligible job package; greeting changes its code.
func greetSource(greeting string) map[string]string {
	return map[string]string{"greet.go": strings.ReplaceAll(`package greet

import "context"

type Request struct {
	Name string `+"`json:\"name\"`"+`
}

type Reply struct {
	Greeting string `+"`json:\"greeting\"`"+`
}

//blueprint:job
func Greet(ctx context.Context, in Request) (Reply, error) {
	return Reply{Greeting: GREETING + in.Name}, nil
}
`, "GREETING", fmt.Sprintf("%q", greeting))}
}
