package engine

import "github.com/tetratelabs/wazero/experimental"

// limitedMemory backs one instance's linear memory and refuses to grow past a byte limit, so
// memory limits are per instance (wazero's own limit is per runtime). The module's declared
// initial memory is always granted; a refused memory.grow makes the Go runtime fail with
// "out of memory", which traps the call and discards the instance.
type limitedMemory struct {
	buf   []byte
	limit uint64 // 0 = no limit beyond the module's own maximum
	max   uint64
}

func newMemoryAllocator(limitBytes uint64) experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(capacity, max uint64) experimental.LinearMemory {
		return &limitedMemory{limit: limitBytes, max: max}
	})
}

func (m *limitedMemory) Reallocate(size uint64) []byte {
	if m.buf != nil && m.limit > 0 && size > m.limit {
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		// Bytes between len and cap were never handed out, so they are still zero.
		m.buf = m.buf[:size]
		return m.buf
	}
	// Double the capacity to amortize copies, within the limit and the module's maximum.
	newCap := max(size, 2*uint64(cap(m.buf)))
	if m.limit > 0 && newCap > m.limit {
		newCap = max(size, m.limit)
	}
	if m.max > 0 && newCap > m.max {
		newCap = max(size, m.max)
	}
	nb := make([]byte, size, newCap)
	copy(nb, m.buf)
	m.buf = nb
	return nb
}

func (m *limitedMemory) Free() { m.buf = nil }
