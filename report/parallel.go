package report

import (
	"io"
	"runtime"
	"sync/atomic"
)

// parallelChunk is how many items writeParallel renders at a time.
const parallelChunk = 256

// writeParallel writes the renderings of items 0 to n-1 to w, in order,
// rendered in chunks on every CPU: render appends item i to b.
func writeParallel(w io.Writer, n int, render func(b []byte, i int) []byte) error {
	chunks := (n + parallelChunk - 1) / parallelChunk
	renderChunk := func(b []byte, k int) []byte {
		for i := k * parallelChunk; i < min(n, (k+1)*parallelChunk); i++ {
			b = render(b, i)
		}
		return b
	}
	workers := min(runtime.GOMAXPROCS(0), chunks)
	if workers < 2 {
		var b []byte
		for k := range chunks {
			b = renderChunk(b[:0], k)
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return nil
	}
	// A worker takes a slot before the next chunk, and the writer frees it
	// once the chunk is written: chunks are taken in order, so the one the
	// writer waits for always has its slot, and at most len(slots) chunks
	// wait in memory. After an error the writer still takes every chunk,
	// so that no worker is left waiting.
	slots := make(chan []byte, 2*workers)
	for range cap(slots) {
		slots <- nil
	}
	done := make([]chan []byte, chunks)
	for k := range done {
		done[k] = make(chan []byte, 1)
	}
	var next atomic.Int64
	for range workers {
		go func() {
			for {
				buf := <-slots
				k := int(next.Add(1) - 1)
				if k >= chunks {
					slots <- buf
					return
				}
				done[k] <- renderChunk(buf[:0], k)
			}
		}()
	}
	var err error
	for k := range chunks {
		b := <-done[k]
		if err == nil {
			_, err = w.Write(b)
		}
		slots <- b
	}
	return err
}
