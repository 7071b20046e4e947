package btfsize

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func needClang(t *testing.T) {
	t.Helper()
	if _, err := (ClangOptions{}).FindClang(); err != nil {
		t.Skip("clang not installed")
	}
}

// Every struct a header defines is reported, with the numbers pahole reads
// from the same compiled file.
func TestHeaderAgainstPahole(t *testing.T) {
	needClang(t)
	if _, err := exec.LookPath("pahole"); err != nil {
		t.Skip("pahole not installed")
	}
	for _, header := range []string{"events.h", "plain.h"} {
		for _, target := range []string{"bpfel", "bpfeb"} {
			path := filepath.Join("..", "testdata", "headers", header)
			opts := ClangOptions{Target: target}
			obj, err := Open(path, Options{Clang: opts})
			if err != nil {
				t.Fatalf("%s: %v", header, err)
			}
			raw, err := opts.Compile(path)
			if err != nil {
				t.Fatal(err)
			}
			compiled := filepath.Join(t.TempDir(), "h.o")
			if err := os.WriteFile(compiled, raw, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("pahole", "-F", "dwarf", compiled).Output()
			if err != nil {
				t.Fatalf("pahole %s: %v", header, err)
			}
			want := parsePahole(string(out))
			defined, err := obj.All(true)
			if err != nil {
				t.Fatal(err)
			}
			checked := 0
			for _, f := range defined {
				name := TypeName(f.Type)
				st, ok := want[name]
				if !ok {
					continue
				}
				l, err := f.Layout()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				got := paholeStats{int(l.Size), l.Holes, int(l.HoleBytes), l.BitHoles, int(l.BitHoleBits), int(l.Padding)}
				if got != st {
					t.Errorf("%s %s %s: btfsize %+v, pahole %+v", header, target, name, got, st)
				}
				checked++
			}
			if checked < 3 {
				t.Errorf("%s %s: compared %d structs with pahole", header, target, checked)
			}
		}
	}
}

func TestHeaderTypes(t *testing.T) {
	needClang(t)
	obj, err := Open(filepath.Join("..", "testdata", "headers", "events.h"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		size, optimal uint32
	}{
		{"struct net_event", 48, 40},
		{"open_event_t", 112, 112},
		{"struct wire_hdr", 13, 13},
		{"struct crypto_event", 80, 64},
		{"struct exec_event", 24, 24},
		{"any_event_t", 152, 152},
		{"struct envelope", 168, 168},
	} {
		l := lookupOne(t, obj, tc.name)
		if l.Size != tc.size || l.OptimalSize != tc.optimal {
			t.Errorf("%s: size %d optimal %d, want %d and %d", tc.name, l.Size, l.OptimalSize, tc.size, tc.optimal)
		}
	}
	// Types of system includes are reported only with --all.
	defined, _ := obj.All(true)
	for _, f := range defined {
		if file, _, ok := obj.DWARF.Decl(f.Type); ok && strings.HasPrefix(file, "/usr/") {
			t.Errorf("%s from %s reported without --all", TypeName(f.Type), file)
		}
	}
}

// The header names the sends of stripped objects, whose BTF lacks the
// types used only as locals.
func TestHeaderNamesStrippedSites(t *testing.T) {
	needClang(t)
	h, err := Open(filepath.Join("..", "testdata", "ringbuf.h"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, bo := range byteOrders {
		a, err := openFixture(t, "ringbuf-"+bo+".stripped.elf").Sites(SiteOptions{HeaderSize: HeaderSize, Headers: []*Object{h}})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, s := range a.Sites {
			got[s.Program] = s.Type + " " + s.TypeSource
		}
		want := map[string]string{
			"handle_exec":    "struct event size", // only its size: e is declared without code
			"handle_exit":    "exit_event_t header",
			"handle_alert":   "struct alert map",
			"handle_scratch": "struct big_event map",
		}
		for p, w := range want {
			if got[p] != w {
				t.Errorf("%s %s: %q, want %q", bo, p, got[p], w)
			}
		}
	}
}

func TestHeaderErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.h")
	os.WriteFile(bad, []byte("struct x { int a; }\nstruct y { undefined_t b; };\n"), 0o644)
	empty := filepath.Join(dir, "empty.h")
	os.WriteFile(empty, []byte("#define NOTHING 1\n"), 0o644)

	_, err := Open(bad, Options{Clang: ClangOptions{Path: filepath.Join(dir, "no-such-clang")}})
	if !errors.Is(err, ErrNoClang) {
		t.Errorf("missing clang: %v, want ErrNoClang", err)
	}
	needClang(t)
	_, err = Open(bad, Options{})
	if err == nil || !strings.Contains(err.Error(), "does not compile") || !strings.Contains(err.Error(), "undefined_t") {
		t.Errorf("bad header: %v", err)
	}
	if _, err := Open(empty, Options{}); err == nil || !strings.Contains(err.Error(), "defines no struct") {
		t.Errorf("empty header: %v", err)
	}
}

// -D and -I reach clang, as bpf2go's -cflags do.
func TestHeaderFlags(t *testing.T) {
	needClang(t)
	dir := t.TempDir()
	inc := filepath.Join(dir, "inc")
	os.Mkdir(inc, 0o755)
	os.WriteFile(filepath.Join(inc, "common.h"), []byte("typedef unsigned long long u64;\n"), 0o644)
	h := filepath.Join(dir, "ev.h")
	os.WriteFile(h, []byte("#include \"common.h\"\nstruct ev { u64 a;\n#ifdef WIDE\n u64 b;\n#endif\n};\n"), 0o644)
	for _, tc := range []struct {
		defines []string
		size    uint32
	}{{nil, 8}, {[]string{"WIDE"}, 16}, {[]string{"WIDE=1"}, 16}} {
		obj, err := Open(h, Options{Clang: ClangOptions{Includes: []string{inc}, Defines: tc.defines}})
		if err != nil {
			t.Fatalf("-D %v: %v", tc.defines, err)
		}
		if l := lookupOne(t, obj, "struct ev"); l.Size != tc.size {
			t.Errorf("-D %v: size %d, want %d", tc.defines, l.Size, tc.size)
		}
	}
	if _, err := Open(h, Options{}); err == nil || !strings.Contains(err.Error(), "common.h") {
		t.Errorf("without -I: %v, want clang's diagnostic naming common.h", err)
	}
}
