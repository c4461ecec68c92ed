package realapp

import (
	"bytes"
	"context"
	"strings"
	"sync"
)

var builders = sync.Pool{New: func() any { return new(strings.Builder) }}

// PooledBuilderNotReset reuses a pooled strings.Builder without resetting it: what the last
// call wrote is still in it, so the output grows from call to call.
// expect: pure=false deterministic=false state=true eligible=false hosts=
//
//blueprint:job
func PooledBuilderNotReset(ctx context.Context, in In) (Out, error) {
	b := builders.Get().(*strings.Builder)
	b.WriteString(in.Name)
	text := b.String()
	builders.Put(b)
	return Out{Text: text}, nil
}

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// PooledBufferReset resets the pooled buffer before writing and copies the result out: the
// pool only saves allocations.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func PooledBufferReset(ctx context.Context, in In) (Out, error) {
	buf := buffers.Get().(*bytes.Buffer)
	buf.Reset()
	buf.WriteString("hello, ")
	buf.WriteString(in.Name)
	text := buf.String()
	buffers.Put(buf)
	return Out{Text: text}, nil
}

var byteSlices = sync.Pool{New: func() any { b := make([]byte, 0, 64); return &b }}

// PooledBytesReset takes a pooled byte slice, empties it and puts it back emptied (both sides
// reset, as in the standard library's fmt).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func PooledBytesReset(ctx context.Context, in In) (Out, error) {
	bp := byteSlices.Get().(*[]byte)
	*bp = (*bp)[:0]
	*bp = append(*bp, in.Name...)
	*bp = append(*bp, '!')
	text := string(*bp)
	*bp = (*bp)[:0]
	byteSlices.Put(bp)
	return Out{Text: text}, nil
}

var lines = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// PooledResetOnReturn resets the buffer when giving it back, not when taking it; every Put of
// this pool resets, so nothing written by one call reaches the next.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func PooledResetOnReturn(ctx context.Context, in In) (Out, error) {
	buf := lines.Get().(*bytes.Buffer)
	buf.WriteString(strings.ToUpper(in.Name))
	text := buf.String()
	buf.Reset()
	lines.Put(buf)
	return Out{Text: text}, nil
}
