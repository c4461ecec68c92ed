package holdout3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"path"
	"runtime"
	"sync"
	"time"
)

// objectKey is the content address of data: sha256 in hex, sharded by its first two bytes.
func objectKey(prefix string, data []byte) string {
	sum := sha256.Sum256(data)
	h := hex.EncodeToString(sum[:])
	return path.Join(prefix, h[:2], h[2:4], h)
}

// ObjectKey exercises crypto/sha256 and encoding/hex to build a sharded content address.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ObjectKey(ctx context.Context, in In) (Out, error) {
	return Out{Text: objectKey(in.Tenant, []byte(in.Text))}, nil
}

// ObjectKeyDated exercises a key prefixed with today's date from time.Now (the clock reaches
// the output).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func ObjectKeyDated(ctx context.Context, in In) (Out, error) {
	day := time.Now().UTC().Format("2006/01/02")
	return Out{Text: objectKey(path.Join(in.Tenant, day), []byte(in.Text))}, nil
}

// ObjectKeysParallel exercises a bounded worker pool (runtime.NumCPU workers reading indexes
// from a channel) writing each key into its own slot, joined by a WaitGroup.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ObjectKeysParallel(ctx context.Context, in In) (Out, error) {
	keys := make([]string, len(in.Items))
	idx := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(runtime.NumCPU(), 4); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				keys[i] = objectKey(in.Tenant, []byte(in.Items[i]))
			}
		}()
	}
	for i := range in.Items {
		idx <- i
	}
	close(idx)
	wg.Wait()
	return Out{Lines: keys}, nil
}

// objectsEndpoint is the object store's bucket endpoint.
const objectsEndpoint = "https://media.objects.example.com"

// PutObject exercises an HTTP PUT (http.NewRequestWithContext) to a constant endpoint joined
// with a computed key.
// expect: pure=false deterministic=false state=false eligible=true hosts=media.objects.example.com
//
//blueprint:job
func PutObject(ctx context.Context, in In) (Out, error) {
	data := []byte(in.Text)
	key := objectKey(in.Tenant, data)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, objectsEndpoint+"/"+key, bytes.NewReader(data))
	if err != nil {
		return Out{}, err
	}
	sum := sha256.Sum256(data)
	req.Header.Set("X-Content-SHA256", hex.EncodeToString(sum[:]))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Out{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return Out{}, fmt.Errorf("put %s: status %d", key, resp.StatusCode)
	}
	return Out{Text: key, OK: true}, nil
}
