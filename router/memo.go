package router

import (
	"container/list"
	"crypto/sha256"
	"sync"
	"sync/atomic"
)

// Memoizable says whether a job's results may be cached: only when the analysis proved it pure
// (no effect is skipped by answering from the cache) and deterministic (the cached answer is
// the answer it would give again).
func Memoizable(pure, deterministic bool) bool { return pure && deterministic }

// MemoKey identifies one result: the job, the exact code that computed it (a new deployment
// never sees an old answer) and the input.
type MemoKey struct {
	Job      string
	Artifact string
	Input    [sha256.Size]byte
}

// NewMemoKey hashes the input into a key.
func NewMemoKey(jobName, artifactSHA256 string, input []byte) MemoKey {
	return MemoKey{Job: jobName, Artifact: artifactSHA256, Input: sha256.Sum256(input)}
}

// MemoCache is a result cache bounded in bytes, evicting the least recently used entries.
type MemoCache struct {
	mu       sync.Mutex
	maxBytes int64
	used     int64
	order    *list.List // front = most recently used
	entries  map[MemoKey]*list.Element
	hits     atomic.Uint64
	misses   atomic.Uint64
}

type memoEntry struct {
	key    MemoKey
	output []byte
}

// memoOverhead approximates the bytes an entry costs beyond its output (key, list and map).
const memoOverhead = 160

// NewMemoCache returns a cache holding at most maxBytes of results (0 = 64 MiB).
func NewMemoCache(maxBytes int64) *MemoCache {
	if maxBytes <= 0 {
		maxBytes = 64 << 20
	}
	return &MemoCache{maxBytes: maxBytes, order: list.New(), entries: map[MemoKey]*list.Element{}}
}

// Get returns a cached output. The caller must not modify it.
func (c *MemoCache) Get(k MemoKey) ([]byte, bool) {
	c.mu.Lock()
	var output []byte
	e, ok := c.entries[k]
	if ok {
		c.order.MoveToFront(e)
		output = e.Value.(*memoEntry).output // read under the lock: Put may replace it
	}
	c.mu.Unlock()
	if !ok {
		c.misses.Add(1)
		return nil, false
	}
	c.hits.Add(1)
	return output, true
}

// Put stores an output (copied). Outputs larger than an eighth of the cache are not kept: one
// huge answer must not flush everything else.
func (c *MemoCache) Put(k MemoKey, output []byte) {
	size := int64(len(output)+len(k.Job)+len(k.Artifact)) + memoOverhead
	if size > c.maxBytes/8 {
		return
	}
	kept := append([]byte(nil), output...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[k]; ok {
		old := e.Value.(*memoEntry)
		c.used += int64(len(kept)) - int64(len(old.output))
		old.output = kept
		c.order.MoveToFront(e)
	} else {
		c.entries[k] = c.order.PushFront(&memoEntry{key: k, output: kept})
		c.used += size
	}
	for c.used > c.maxBytes {
		last := c.order.Back()
		ent := last.Value.(*memoEntry)
		c.order.Remove(last)
		delete(c.entries, ent.key)
		c.used -= int64(len(ent.output)+len(ent.key.Job)+len(ent.key.Artifact)) + memoOverhead
	}
}

// MemoStats is a snapshot for metrics.
type MemoStats struct {
	Hits, Misses uint64
	Entries      int
	Bytes        int64
}

// HitRate is hits / (hits + misses), 0 before any lookup.
func (s MemoStats) HitRate() float64 {
	if s.Hits+s.Misses == 0 {
		return 0
	}
	return float64(s.Hits) / float64(s.Hits+s.Misses)
}

// Stats returns the counters.
func (c *MemoCache) Stats() MemoStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return MemoStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Entries: len(c.entries), Bytes: c.used}
}
