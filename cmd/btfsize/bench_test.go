package main

import (
	"io"
	"os"
	"testing"
)

// BenchmarkKernelAllJSON is `btfsize --all --format json` on the host's
// kernel BTF, output discarded.
func BenchmarkKernelAllJSON(b *testing.B) {
	if _, err := os.Stat(hostBTF); err != nil {
		b.Skip("no kernel BTF")
	}
	for b.Loop() {
		if err := run(io.Discard, io.Discard, []string{"--all", "--format", "json", hostBTF}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKernelType is `btfsize -t task_struct` on the host's kernel BTF.
func BenchmarkKernelType(b *testing.B) {
	if _, err := os.Stat(hostBTF); err != nil {
		b.Skip("no kernel BTF")
	}
	for b.Loop() {
		if err := run(io.Discard, io.Discard, []string{"-t", "task_struct", hostBTF}); err != nil {
			b.Fatal(err)
		}
	}
}
