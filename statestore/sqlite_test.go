package statestore_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/serverless-blueprint/blueprint/statestore"
	"github.com/serverless-blueprint/blueprint/statestore/storetest"
)

func openTemp(t *testing.T) statestore.Store {
	s, err := statestore.Open("sqlite://" + filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLiteContract(t *testing.T) { storetest.Run(t, openTemp) }

// Two stores on one file, as the agent and a host on one machine open it, lose no update.
func TestSQLiteSharedFile(t *testing.T) {
	path := "sqlite://" + filepath.Join(t.TempDir(), "state.db")
	var stores []statestore.Store
	for range 2 {
		s, err := statestore.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 50 {
				if err := storetest.Increment(context.Background(), stores[i%2].For("tally"), "n"); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if v, _, err := stores[0].For("tally").Get(context.Background(), "n"); err != nil || string(v) != "400" {
		t.Fatalf("counter = %q %v, want 400", v, err)
	}
}

func TestOpenErrors(t *testing.T) {
	notDB := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notDB, []byte(strings.Repeat("this is not a database\n", 100)), 0o600)
	if _, err := statestore.Open(notDB); err == nil || !strings.Contains(err.Error(), "is not a usable SQLite database") {
		t.Fatalf("a file that is not a database: %v", err)
	}
	for _, bad := range []string{"", "relative.db", "dynamodb://table", "redis://x"} {
		if _, err := statestore.Open(bad); err == nil {
			t.Errorf("Open(%q) accepted", bad)
		}
	}
}

// BenchmarkSQLiteConditionalWrite is the embedded store's conditional-write throughput: one
// writer updating one key at its version, and 8 writers incrementing one counter (conflicts
// retried).
//
//	go test -run '^$' -bench SQLite -count 6 ./statestore
func BenchmarkSQLiteConditionalWrite(b *testing.B) {
	open := func(b *testing.B) statestore.Store {
		s, err := statestore.Open("sqlite://" + filepath.Join(b.TempDir(), "state.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	b.Run("one-writer", func(b *testing.B) {
		st := open(b).For("bench")
		ctx := context.Background()
		ver := int64(0)
		for b.Loop() {
			v, err := st.Put(ctx, "k", []byte("value"), ver)
			if err != nil {
				b.Fatal(err)
			}
			ver = v
		}
	})
	b.Run("8-incrementers", func(b *testing.B) {
		st := open(b).For("bench")
		b.SetParallelism(4) // 4 × GOMAXPROCS(2) = 8 goroutines
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := storetest.Increment(context.Background(), st, "n"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
