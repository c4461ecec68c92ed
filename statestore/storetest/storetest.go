// Package storetest is the contract every state store passes: missing keys, conditional
// writes on a version, no lost update under concurrent writers, jobs kept apart, limits and
// context deadlines.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/serverless-blueprint/blueprint/job"
	"github.com/serverless-blueprint/blueprint/statestore"
)

// Run runs the contract against the store open returns (a fresh, empty one per call).
func Run(t *testing.T, open func(t *testing.T) statestore.Store) {
	ctx := context.Background()
	t.Run("MissingKey", func(t *testing.T) {
		st := open(t).For("job")
		v, ver, err := st.Get(ctx, "nothing")
		if err != nil || v != nil || ver != 0 {
			t.Fatalf("Get of a missing key = %q, %d, %v; want nil, 0, nil", v, ver, err)
		}
	})
	t.Run("ConditionalWrites", func(t *testing.T) {
		st := open(t).For("job")
		v1, err := st.Put(ctx, "k", []byte("one"), 0)
		if err != nil || v1 != 1 {
			t.Fatalf("create: %d %v", v1, err)
		}
		if _, err := st.Put(ctx, "k", []byte("again"), 0); !errors.Is(err, job.ErrVersionConflict) {
			t.Fatalf("create of an existing key: %v, want ErrVersionConflict", err)
		}
		v2, err := st.Put(ctx, "k", []byte("two"), v1)
		if err != nil || v2 != 2 {
			t.Fatalf("update: %d %v", v2, err)
		}
		if _, err := st.Put(ctx, "k", []byte("stale"), v1); !errors.Is(err, job.ErrVersionConflict) {
			t.Fatalf("update from a stale version: %v, want ErrVersionConflict", err)
		}
		if _, err := st.Put(ctx, "absent", []byte("x"), 5); !errors.Is(err, job.ErrVersionConflict) {
			t.Fatalf("update of a missing key: %v, want ErrVersionConflict", err)
		}
		got, ver, err := st.Get(ctx, "k")
		if err != nil || string(got) != "two" || ver != 2 {
			t.Fatalf("Get = %q, %d, %v", got, ver, err)
		}
		if v, err := st.Put(ctx, "empty", nil, 0); err != nil || v != 1 {
			t.Fatalf("empty value: %d %v", v, err)
		}
		if got, ver, err := st.Get(ctx, "empty"); err != nil || got == nil || len(got) != 0 || ver != 1 {
			t.Fatalf("empty value read back: %q %d %v (an empty value exists, unlike a missing key)", got, ver, err)
		}
	})
	t.Run("JobsAreApart", func(t *testing.T) {
		s := open(t)
		if _, err := s.For("a").Put(ctx, "k", []byte("of a"), 0); err != nil {
			t.Fatal(err)
		}
		if v, ver, err := s.For("b").Get(ctx, "k"); err != nil || v != nil || ver != 0 {
			t.Fatalf("job b sees job a's key: %q %d %v", v, ver, err)
		}
	})
	t.Run("Limits", func(t *testing.T) {
		st := open(t).For("job")
		if _, err := st.Put(ctx, "big", bytes.Repeat([]byte("x"), statestore.MaxValueBytes+1), 0); err == nil {
			t.Fatal("a value over MaxValueBytes was stored")
		}
		if _, err := st.Put(ctx, "", []byte("x"), 0); err == nil {
			t.Fatal("an empty key was accepted")
		}
		if _, err := st.Put(ctx, strings.Repeat("k", statestore.MaxKeyBytes+1), []byte("x"), 0); err == nil {
			t.Fatal("a key over MaxKeyBytes was accepted")
		}
	})
	t.Run("Deadline", func(t *testing.T) {
		st := open(t).For("job")
		dead, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
		defer cancel()
		if _, err := st.Put(dead, "k", []byte("x"), 0); err == nil {
			t.Fatal("a write with an expired deadline succeeded")
		}
		if _, _, err := st.Get(dead, "k"); err == nil {
			t.Fatal("a read with an expired deadline succeeded")
		}
	})
	t.Run("NoLostUpdate", func(t *testing.T) {
		st := open(t).For("counter")
		const writers, each = 16, 50
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for range writers {
			wg.Go(func() {
				for range each {
					if err := Increment(ctx, st, "n"); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		v, _, err := st.Get(ctx, "n")
		if err != nil || string(v) != strconv.Itoa(writers*each) {
			t.Fatalf("counter = %q (%v), want %d: an update was lost", v, err, writers*each)
		}
	})
}

// Increment adds one to the decimal counter at key, retrying on version conflicts: the
// read-modify-write every stateful job does.
func Increment(ctx context.Context, st job.State, key string) error {
	for attempt := 0; attempt < 10_000; attempt++ {
		v, ver, err := st.Get(ctx, key)
		if err != nil {
			return err
		}
		n := 0
		if v != nil {
			if n, err = strconv.Atoi(string(v)); err != nil {
				return fmt.Errorf("counter %q holds %q", key, v)
			}
		}
		_, err = st.Put(ctx, key, []byte(strconv.Itoa(n+1)), ver)
		if err == nil {
			return nil
		}
		if !errors.Is(err, job.ErrVersionConflict) {
			return err
		}
	}
	return fmt.Errorf("counter %q: too many conflicts", key)
}

// ConditionalIncrementsAtScale has writers each make attempts conditional increments of one
// key (read the value and its version, write the next value expecting that version; a lost
// race is counted, not retried) and checks the counter ends exactly at the number of writes
// that succeeded: none lost, none applied twice, every refused one really refused. It is the
// scale check every cloud store runs against its stand-in.
func ConditionalIncrementsAtScale(t *testing.T, st job.State, writers, attempts int) {
	t.Helper()
	ctx := context.Background()
	var succeeded, refused atomic.Int64
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range attempts {
				v, ver, err := st.Get(ctx, "n")
				if err != nil {
					errs <- err
					return
				}
				count := 0
				if v != nil {
					count, _ = strconv.Atoi(string(v))
				}
				_, err = st.Put(ctx, "n", []byte(strconv.Itoa(count+1)), ver)
				switch {
				case err == nil:
					succeeded.Add(1)
				case errors.Is(err, job.ErrVersionConflict):
					refused.Add(1)
				default:
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	v, _, err := st.Get(ctx, "n")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(v); got != strconv.FormatInt(succeeded.Load(), 10) {
		t.Fatalf("counter = %s after %d successful and %d refused conditional writes: they must match", got, succeeded.Load(), refused.Load())
	}
	if succeeded.Load()+refused.Load() != int64(writers*attempts) {
		t.Fatalf("%d writes answered, want %d", succeeded.Load()+refused.Load(), writers*attempts)
	}
	t.Logf("%d writers × %d conditional increments: %d succeeded, %d refused as conflicts", writers, attempts, succeeded.Load(), refused.Load())
}
