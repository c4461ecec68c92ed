package host_test

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/serverless-blueprint/blueprint/platform/wasm/host"
	"github.com/serverless-blueprint/blueprint/platform/wasm/internal/wasmtest"
)

// TestHammer deploys, invokes and deletes from many goroutines at once (run with -race): every
// answer must be one the API allows, and once all functions are gone no module may remain.
func TestHammer(t *testing.T) {
	fx := wasmtest.Fixtures(t)
	th := startHost(t, host.Config{MaxConcurrency: 64})
	names := []string{"f0", "f1", "f2"}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			for i := 0; i < 25; i++ {
				name := names[rng.Intn(len(names))]
				var status int
				var allowed []int
				switch op := rng.Intn(4); op {
				case 0: // deploy, sometimes after (re)uploading the module
					code := fx.Plain
					sha := fx.PlainSHA
					if rng.Intn(2) == 0 {
						th.do("PUT", "/v1/blobs/"+sha, code)
					}
					body, _ := json.Marshal(map[string]any{"code_sha256": sha, "entry": "sum", "pure": rng.Intn(2) == 0, "memory_mb": 64 * (1 + rng.Intn(2))})
					status, allowed = th.do("PUT", "/v1/functions/"+name, body).status, []int{200, 409}
				case 1:
					status, allowed = th.do("POST", "/v1/functions/"+name+"/invoke", []byte(`[1,2]`)).status, []int{200, 404, 500}
				case 2:
					status, allowed = th.do("DELETE", "/v1/functions/"+name, nil).status, []int{204, 404}
				case 3:
					status, allowed = th.do("GET", "/v1/functions", nil).status, []int{200}
				}
				ok := false
				for _, a := range allowed {
					ok = ok || a == status
				}
				if !ok {
					errs <- fmt.Errorf("goroutine %d op %d on %s: status %d, allowed %v", seed, i, name, status, allowed)
					return
				}
			}
		}(int64(g))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, name := range names {
		th.do("DELETE", "/v1/functions/"+name, nil)
	}
	entries, _ := os.ReadDir(filepath.Join(th.data, "blobs"))
	if len(entries) != 0 {
		t.Fatalf("%d module files left after deleting every function", len(entries))
	}
	th.mustStatus(th.do("HEAD", "/v1/blobs/"+fx.PlainSHA, nil), http.StatusNotFound)
}
