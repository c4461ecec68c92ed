package firestorestore_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/serverless-blueprint/blueprint/internal/firestoretest"
	"github.com/serverless-blueprint/blueprint/statestore"
	"github.com/serverless-blueprint/blueprint/statestore/firestorestore"
	"github.com/serverless-blueprint/blueprint/statestore/storetest"
)

func open(t *testing.T, emu *firestoretest.Emulator, n *atomic.Int64) *firestorestore.Store {
	t.Helper()
	s, err := firestorestore.Open(context.Background(), fmt.Sprintf("firestore://blueprint-test/state-%d?emulator=%s", n.Add(1), emu.Host))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestContract runs the contract every state store passes against Google's Firestore emulator.
func TestContract(t *testing.T) {
	emu := firestoretest.Start(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) statestore.Store { return open(t, emu, &n) })
}

// TestConditionalWritesAtScale: writers each make increments of one document (read, then a
// conditional write expecting the version read; a lost race is counted, not retried). The
// counter must end exactly at the number of commits that succeeded. make test runs 16 × 100;
// BLUEPRINT_SCALE=1 runs the 64 × 1,000 (docs/performance.md has the run).
func TestConditionalWritesAtScale(t *testing.T) {
	writers, each := 16, 100
	if os.Getenv("BLUEPRINT_SCALE") == "1" {
		writers, each = 64, 1000
	}
	emu := firestoretest.Start(t)
	var n atomic.Int64
	st := open(t, emu, &n).For("counter")
	storetest.ConditionalIncrementsAtScale(t, st, writers, each)
}

func TestParseURL(t *testing.T) {
	loc, err := firestorestore.ParseURL("firestore://my-project/blueprint-state?database=jobs&emulator=127.0.0.1:8080")
	if err != nil || loc.Project != "my-project" || loc.Collection != "blueprint-state" || loc.Database != "jobs" || loc.Emulator != "127.0.0.1:8080" {
		t.Fatalf("%+v, %v", loc, err)
	}
	if again, _ := firestorestore.ParseURL(loc.URL()); again != loc {
		t.Fatalf("URL round trip: %+v", again)
	}
	for raw, want := range map[string]string{
		"firestore://My_Project/state": "is not a Google Cloud project ID",
		"firestore://my-project":       "name the collection",
		"firestore://my-project/a/b":   "name the collection",
		"dynamodb://t?region=r":        "write firestore://PROJECT/COLLECTION",
	} {
		if _, err := firestorestore.ParseURL(raw); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", raw, err, want)
		}
	}
}
