package btfsize

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// bigObject compiles a generated eBPF object with n programs, each with
// arithmetic, branches and a ringbuf send, and returns its path.
func bigObject(b *testing.B, n int) string {
	b.Helper()
	clang, err := (ClangOptions{}).FindClang()
	if err != nil {
		b.Skip("clang not installed")
	}
	var src strings.Builder
	src.WriteString(`#include "bpf_defs.h"
struct ev { __u64 ts, a, b, c; __u32 pid, len; char comm[16]; };
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 1 << 20); } rb SEC(".maps");
`)
	for i := range n {
		fmt.Fprintf(&src, `SEC("tp/bench/p%[1]d") int prog%[1]d(void *ctx)
{
	__u64 t = bpf_ktime_get_ns(), sz = sizeof(struct ev);
	struct ev *e;
	if (t & %[1]d) sz = 16;
	bpf_ringbuf_output(&rb, &t, sz & 0x3f, 0);
	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e) return 0;
	e->ts = t; e->a = t * %[1]d; e->b = t ^ %[1]d; e->c = t >> 3;
	e->pid = bpf_get_current_pid_tgid() >> 32; e->len = %[1]d;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
`, i+1)
	}
	dir := b.TempDir()
	c := filepath.Join(dir, "big.c")
	if err := os.WriteFile(c, []byte(src.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	obj := filepath.Join(dir, "big.o")
	inc, _ := filepath.Abs(filepath.Join("..", "testdata", "include"))
	out, err := exec.Command(clang, "-target", "bpfel", "-O2", "-g", "-I", inc, "-c", c, "-o", obj).CombinedOutput()
	if err != nil {
		b.Fatalf("clang: %v\n%s", err, out)
	}
	return obj
}

func countInsns(b *testing.B, obj *Object) int {
	prog, err := loadProgram(obj.elf, obj.spec, obj.ext)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, fn := range prog.funcs {
		n += fn.end - fn.start
	}
	return n
}

// BenchmarkSites analyses objects of growing size; ns/insn stays flat when
// the cost grows linearly with instructions.
func BenchmarkSites(b *testing.B) {
	for _, progs := range []int{100, 200, 400} {
		path := bigObject(b, progs)
		obj, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		insns := countInsns(b, obj)
		info, _ := os.Stat(path)
		b.Run(fmt.Sprintf("insns=%d/bytes=%d", insns, info.Size()), func(b *testing.B) {
			for b.Loop() {
				o, err := Open(path, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := o.Report(Request{HeaderSize: HeaderSize}); err != nil {
					b.Fatal(err)
				}
				o.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(insns), "ns/insn")
		})
		obj.Close()
	}
}

func BenchmarkOpenFixture(b *testing.B) {
	path := filepath.Join("..", "testdata", "ringbuf-el.elf")
	for b.Loop() {
		o, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := o.Report(Request{HeaderSize: HeaderSize}); err != nil {
			b.Fatal(err)
		}
		o.Close()
	}
}

func kernelOrSkip(b *testing.B) {
	if _, err := os.Stat(kernelBTF); err != nil {
		b.Skip("no kernel BTF")
	}
}

// BenchmarkKernelType is `btfsize --kernel -t task_struct`: one type looked
// up without decoding the rest.
func BenchmarkKernelType(b *testing.B) {
	m, _ := NewMatcher([]string{"task_struct"})
	benchKernelReport(b, Request{Types: m, HeaderSize: HeaderSize})
}

// BenchmarkKernelAll is `btfsize --all` on the kernel: every struct and union.
func BenchmarkKernelAll(b *testing.B) {
	benchKernelReport(b, Request{All: true, HeaderSize: HeaderSize})
}

// benchKernelReport opens the kernel's BTF and reports q, each time.
func benchKernelReport(b *testing.B, q Request) {
	kernelOrSkip(b)
	for b.Loop() {
		o, err := Open(kernelBTF, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := o.Report(q); err != nil {
			b.Fatal(err)
		}
		o.Close()
	}
}

// BenchmarkKernelAllDecoded is the same through the type decoder, as it
// was before the raw reader: what the raw reader saves.
func BenchmarkKernelAllDecoded(b *testing.B) {
	raw := kernelRaw(b)
	for b.Loop() {
		if _, ok := decodedAll(b, raw); !ok {
			b.Fatal("decoder cannot measure the kernel")
		}
	}
}

// BenchmarkRawIndex, BenchmarkRawCheck and BenchmarkRawMeasure are the
// stages of the raw reader on the kernel's BTF, already read.
func BenchmarkRawIndex(b *testing.B) {
	raw := kernelRaw(b)
	for b.Loop() {
		if _, err := parseRawTypes(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawCheck(b *testing.B) {
	r, _ := parseRawTypes(kernelRaw(b))
	for b.Loop() {
		if err := r.checkRefs(1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRawMeasure(b *testing.B) {
	r, _ := parseRawTypes(kernelRaw(b))
	for b.Loop() {
		if _, err := newRawMeasurer(r).all(HeaderSize, kernelBTF, runtime.GOMAXPROCS(0)); err != nil {
			b.Fatal(err)
		}
	}
}

func kernelRaw(b *testing.B) []byte {
	kernelOrSkip(b)
	raw, err := os.ReadFile(kernelBTF)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

func BenchmarkMeasure(b *testing.B) {
	kernelOrSkip(b)
	o, err := Open(kernelBTF, Options{})
	if err != nil {
		b.Fatal(err)
	}
	found := o.Lookup("struct task_struct")
	for b.Loop() {
		if _, err := found[0].Layout(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHeader500 reports a header of 500 structs; BenchmarkClang500 is
// clang alone on the same header, the part of the cost that is clang's.
func BenchmarkHeader500(b *testing.B) {
	path := header500(b)
	for b.Loop() {
		o, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		r, err := o.Report(Request{HeaderSize: HeaderSize})
		if err != nil || len(r.Types) < 500 {
			b.Fatalf("%d types, %v", len(r.Types), err)
		}
	}
}

func BenchmarkClang500(b *testing.B) {
	path := header500(b)
	for b.Loop() {
		if _, err := (ClangOptions{}).Compile(path); err != nil {
			b.Fatal(err)
		}
	}
}

func header500(b *testing.B) string {
	b.Helper()
	if _, err := (ClangOptions{}).FindClang(); err != nil {
		b.Skip("clang not installed")
	}
	var src strings.Builder
	src.WriteString("typedef unsigned long long u64; typedef unsigned int u32; typedef unsigned char u8;\n")
	for i := range 500 {
		fmt.Fprintf(&src, "struct s%d { u8 kind; u64 ts; u32 pid:20, cpu:12; char comm[%d]; union { u32 v4; u8 v6[16]; } addr; };\n", i, 1+i%64)
	}
	path := filepath.Join(b.TempDir(), "many.h")
	if err := os.WriteFile(path, []byte(src.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}
