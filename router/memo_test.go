package router

import (
	"fmt"
	"sync"
	"testing"
)

func TestMemoizable(t *testing.T) {
	for _, c := range []struct {
		pure, deterministic, want bool
	}{{true, true, true}, {true, false, false}, {false, true, false}, {false, false, false}} {
		if got := Memoizable(c.pure, c.deterministic); got != c.want {
			t.Errorf("Memoizable(pure=%v, deterministic=%v) = %v, want %v", c.pure, c.deterministic, got, c.want)
		}
	}
}

func TestMemoCacheHitsAndKeys(t *testing.T) {
	c := NewMemoCache(1 << 20)
	k := NewMemoKey("resize", "sha-a", []byte(`{"w":1}`))
	if _, ok := c.Get(k); ok {
		t.Fatal("hit in an empty cache")
	}
	c.Put(k, []byte(`"out"`))
	if v, ok := c.Get(k); !ok || string(v) != `"out"` {
		t.Fatalf("Get = %q, %v; want the stored output", v, ok)
	}
	// Another input, another artifact (a redeploy) or another job: all misses.
	for _, other := range []MemoKey{
		NewMemoKey("resize", "sha-a", []byte(`{"w":2}`)),
		NewMemoKey("resize", "sha-b", []byte(`{"w":1}`)),
		NewMemoKey("thumb", "sha-a", []byte(`{"w":1}`)),
	} {
		if _, ok := c.Get(other); ok {
			t.Errorf("hit for %+v", other)
		}
	}
	s := c.Stats()
	if s.Hits != 1 || s.Misses != 4 || s.Entries != 1 {
		t.Fatalf("stats = %+v; want 1 hit, 4 misses, 1 entry", s)
	}
	if r := s.HitRate(); r != 0.2 {
		t.Fatalf("hit rate = %v, want 0.2", r)
	}
}

func TestMemoCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := NewMemoCache(8 * (memoOverhead + 100))
	value := make([]byte, 90)
	key := func(i int) MemoKey { return NewMemoKey("j", "a", []byte(fmt.Sprint(i))) }
	for i := range 8 {
		c.Put(key(i), value)
	}
	c.Get(key(0)) // 0 is now the most recently used
	c.Put(key(8), value)
	if _, ok := c.Get(key(0)); !ok {
		t.Error("the most recently used entry was evicted")
	}
	if _, ok := c.Get(key(1)); ok {
		t.Error("the least recently used entry was kept past the byte limit")
	}
	if s := c.Stats(); s.Bytes > 8*(memoOverhead+100) {
		t.Errorf("cache holds %d bytes, over its limit", s.Bytes)
	}
	// An output larger than an eighth of the cache is not kept.
	c.Put(key(99), make([]byte, 8*(memoOverhead+100)/8+1))
	if _, ok := c.Get(key(99)); ok {
		t.Error("an oversized output was cached")
	}
}

func TestMemoCacheHammer(t *testing.T) {
	c := NewMemoCache(64 << 10)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := NewMemoKey("j", "a", []byte(fmt.Sprint((g*7+i)%300)))
				if v, ok := c.Get(k); ok && string(v) != fmt.Sprint((g*7+i)%300) {
					t.Errorf("wrong value %q for key %d", v, (g*7+i)%300)
					return
				}
				c.Put(k, []byte(fmt.Sprint((g*7+i)%300)))
			}
		}()
	}
	wg.Wait()
	if s := c.Stats(); s.Bytes > 64<<10 || s.Hits == 0 {
		t.Fatalf("stats after hammer = %+v", s)
	}
}
