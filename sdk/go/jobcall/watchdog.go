package jobcall

import (
	"sync"
	"sync/atomic"
	"time"
)

// watchdog answers the callers of in-process runs that pass their deadline. A timer per call
// (time.AfterFunc) costs about 250 ns here, a quarter of an embedded call; one goroutine that
// looks at the runs in flight every watchdogTick costs a lock per call instead. It ticks only
// while runs come (for watchdogLinger after the last), and otherwise waits to be woken.
type watchdog struct {
	mu     sync.Mutex
	runs   []expirable // runs in flight; each knows its index
	active atomic.Bool // the goroutine is ticking
	// watched counts watch calls (under mu): the loop parks after watchdogLinger without any.
	watched uint64
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

// expirable is one run the watchdog watches.
type expirable interface {
	deadlineNanos() int64 // monotonic, as nanotime
	expire()
	setSlot(i int)
	slot() int
}

const (
	// watchdogTick bounds how late past its timeout a caller is answered.
	watchdogTick = 2 * time.Millisecond
	// watchdogLinger keeps the watchdog ticking between calls that come often.
	watchdogLinger = time.Second
)

func newWatchdog() *watchdog {
	w := &watchdog{wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	return w
}

// watch adds a run; unwatch removes it (both cheap: the caller does them on every call).
func (w *watchdog) watch(r expirable) {
	w.mu.Lock()
	r.setSlot(len(w.runs))
	w.runs = append(w.runs, r)
	w.watched++
	w.mu.Unlock()
	if !w.active.Load() && w.active.CompareAndSwap(false, true) {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

func (w *watchdog) unwatch(r expirable) {
	w.mu.Lock()
	if i := r.slot(); i >= 0 && i < len(w.runs) && w.runs[i] == r {
		w.removeLocked(i)
	}
	w.mu.Unlock()
}

// removeLocked takes the run at index i out of the list (the last one takes its place).
func (w *watchdog) removeLocked(i int) {
	r, last := w.runs[i], len(w.runs)-1
	w.runs[i] = w.runs[last]
	w.runs[i].setSlot(i)
	w.runs[last] = nil
	w.runs = w.runs[:last]
	r.setSlot(-1)
}

func (w *watchdog) loop() {
	defer close(w.done)
	ticker := time.NewTicker(watchdogTick)
	ticker.Stop()
	var expired []expirable
	for {
		select {
		case <-w.wake:
		case <-w.stop:
			return
		}
		ticker.Reset(watchdogTick)
		idleSince := time.Now()
		var seen uint64
		for w.active.Load() {
			select {
			case <-ticker.C:
			case <-w.stop:
				ticker.Stop()
				return
			}
			now := nanotime()
			w.mu.Lock()
			for i := 0; i < len(w.runs); {
				r := w.runs[i]
				if r.deadlineNanos() > now {
					i++
					continue
				}
				expired = append(expired, r)
				w.removeLocked(i)
			}
			busy := len(w.runs) > 0 || w.watched != seen
			seen = w.watched
			w.mu.Unlock()
			for i, r := range expired {
				r.expire()
				expired[i] = nil
			}
			expired = expired[:0]
			if busy {
				idleSince = time.Now()
			} else if time.Since(idleSince) > watchdogLinger {
				// Park; a watch that saw active=true just before this still gets checked:
				// the next watch finds it false and wakes the loop.
				w.active.Store(false)
				w.mu.Lock()
				pending := len(w.runs) > 0
				w.mu.Unlock()
				if pending && w.active.CompareAndSwap(false, true) {
					continue
				}
			}
		}
		ticker.Stop()
	}
}

func (w *watchdog) close() {
	close(w.stop)
	<-w.done
}

// clockStart anchors nanotime: durations on the monotonic clock, as int64 for cheap compares.
var clockStart = time.Now()

func nanotime() int64 { return int64(time.Since(clockStart)) }
