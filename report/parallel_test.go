package report

import (
	"bytes"
	"errors"
	"strconv"
	"testing"
)

// TestWriteParallel: items come out in order, whatever the chunking, and a
// failing writer ends the write with its error, leaving no worker stuck.
func TestWriteParallel(t *testing.T) {
	render := func(b []byte, i int) []byte { return append(strconv.AppendInt(b, int64(i), 10), '\n') }
	for _, n := range []int{0, 1, parallelChunk - 1, parallelChunk, parallelChunk + 1, 10_000} {
		var want bytes.Buffer
		for i := range n {
			want.Write(render(nil, i))
		}
		var got bytes.Buffer
		if err := writeParallel(&got, n, render); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%d items: out of order or missing", n)
		}
	}
	fail := errors.New("disk full")
	w := &failAfter{n: 3, err: fail}
	if err := writeParallel(w, 100_000, render); !errors.Is(err, fail) {
		t.Errorf("error %v, want %v", err, fail)
	}
	if w.calls != 4 {
		t.Errorf("%d writes, want 4: the writer stops at the first error", w.calls)
	}
}

// failAfter fails every write after the first n.
type failAfter struct {
	n, calls int
	err      error
}

func (f *failAfter) Write(p []byte) (int, error) {
	f.calls++
	if f.calls > f.n {
		return 0, f.err
	}
	return len(p), nil
}
