package btfsize

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf/btf"
)

// malformed is one hostile input: a file's bytes, or a path made by setup.
type malformed struct {
	name  string
	data  []byte
	setup func(t *testing.T, dir string) string
	// mayPass marks damage btfsize need not read: relocations of sections
	// it reads without them, a type graph no struct reaches.
	mayPass bool
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// patch returns a copy of raw with b written at off.
func patch(raw []byte, off int, b ...byte) []byte {
	out := bytes.Clone(raw)
	copy(out[off:], b)
	return out
}

// rawKernelBTF marshals types into raw BTF.
func rawKernelBTF(t testing.TB, types ...btf.Type) []byte {
	t.Helper()
	b, err := btf.NewBuilder(types, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Marshal(nil, &btf.MarshalOptions{Order: binary.LittleEndian})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// btfHeader fields, little-endian (include/uapi/linux/btf.h): magic u16,
// version u8, flags u8, hdr_len, type_off, type_len, str_off, str_len u32.
const (
	btfTypeLen = 12
	btfStrOff  = 16
	btfStrLen  = 20
)

func malformedInputs(t *testing.T) []malformed {
	obj := readFixture(t, "ringbuf-el.elf")
	ef, err := elf.NewFile(bytes.NewReader(obj))
	if err != nil {
		t.Fatal(err)
	}
	u32 := &btf.Int{Name: "u32", Size: 4}
	good := rawKernelBTF(t, &btf.Struct{Name: "s", Size: 4, Members: []btf.Member{{Name: "a", Type: u32}}})
	le := binary.LittleEndian
	put32 := func(raw []byte, off int, v uint32) []byte {
		out := bytes.Clone(raw)
		le.PutUint32(out[off:], v)
		return out
	}
	typeStart := btfHeaderLen
	cases := []malformed{
		{name: "empty", data: []byte{}},
		{name: "one byte", data: []byte{0x7f}},
		{name: "ELF magic only", data: []byte(elf.ELFMAG)},
		{name: "wrong magic", data: patch(obj, 0, 'X')},
		{name: "ELF class garbage", data: patch(obj, 4, 9)},
		{name: "ELF data garbage", data: patch(obj, 5, 9)},
		{name: "section header offset past the end", data: patch(obj, 0x28, 0xff, 0xff, 0xff, 0x7f)},
		{name: "section count absurd", data: patch(obj, 0x3c, 0xff, 0xff)},
		{name: "BTF magic only", data: []byte{0x9f, 0xeb}},
		{name: "BTF header truncated", data: good[:10]},
		{name: "BTF type section past the end", data: put32(good, btfTypeLen, 1<<30)},
		{name: "BTF string section past the end", data: put32(good, btfStrLen, 1<<30)},
		{name: "BTF string offset out of range", data: put32(good, typeStart, 1<<20)},
		{name: "BTF type id out of range", data: put32(good, typeStart+12+4+8, 999999)},
		{name: "BTF member count absurd", data: put32(good, typeStart+4, 4<<24|0xffff)},
		{name: "BTF unknown kind", data: put32(good, typeStart+4, 31<<24)},
		{name: "BTF cyclic typedef", data: rawCycle(t), mayPass: true},
		{name: "BTF absurd array", data: rawKernelBTF(t, &btf.Struct{Name: "huge", Size: 8, Members: []btf.Member{
			{Name: "a", Type: &btf.Array{Index: u32, Type: u32, Nelems: 1 << 31}}}}), mayPass: true},
		{name: "JSON truncated", data: []byte(`{"version": 1, "sites": [`)},
		{name: "JSON wrong version", data: []byte(`{"version": 99}`)},
		{name: "text that is not C", data: []byte("this is not a header {{{\n")},
		{name: "directory", setup: func(t *testing.T, dir string) string { return dir }},
		{name: "missing file", setup: func(t *testing.T, dir string) string { return filepath.Join(dir, "none") }},
		{name: "huge sparse file", setup: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "sparse")
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			f.Write([]byte(elf.ELFMAG))
			f.Truncate(4 << 30)
			f.Close()
			return p
		}},
		{name: "huge sparse raw BTF", setup: func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "sparse.btf")
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(put32(good, btfTypeLen, 1<<31))
			f.Truncate(3 << 30)
			f.Close()
			return p
		}},
	}
	// Truncation at every section boundary of a real object.
	for _, sec := range ef.Sections {
		for _, off := range []uint64{sec.Offset, sec.Offset + sec.FileSize/2} {
			if off > 0 && off < uint64(len(obj)) {
				cases = append(cases, malformed{name: "truncated in " + sec.Name, data: obj[:off]})
			}
		}
		if sec.Type == elf.SHT_REL {
			// A relocation whose symbol points nowhere.
			raw := bytes.Clone(obj)
			le.PutUint64(raw[sec.Offset+8:], uint64(0xffffff)<<32|1)
			code := ef.Sections[sec.Info].Flags&elf.SHF_EXECINSTR != 0
			cases = append(cases, malformed{name: "relocation to nowhere in " + sec.Name, data: raw, mayPass: !code})
		}
		if sec.Name == ".BTF" || sec.Name == ".BTF.ext" || sec.Name == "tp/sched/sched_process_exec" {
			// A zero-length section: its size field in the section header.
			raw := bytes.Clone(obj)
			shoff := le.Uint64(obj[0x28:])
			idx := sectionIndex(ef, sec.Name)
			le.PutUint64(raw[shoff+uint64(idx)*64+32:], 0)
			cases = append(cases, malformed{name: "zero-length " + sec.Name, data: raw, mayPass: sec.Name != ".BTF"})
		}
	}
	return cases
}

func sectionIndex(ef *elf.File, name string) int {
	for i, s := range ef.Sections {
		if s.Name == name {
			return i
		}
	}
	return -1
}

// rawCycle is BTF whose typedef refers to itself: id 1 typedef -> id 1.
func rawCycle(t *testing.T) []byte {
	raw := rawKernelBTF(t, &btf.Typedef{Name: "loop", Type: &btf.Int{Name: "int", Size: 4}})
	// The typedef is type 1 (added first); point it at itself.
	binary.LittleEndian.PutUint32(raw[btfHeaderLen+8:], 1)
	return raw
}

// Every malformed input gives one line of error or a report, quickly,
// without a panic and without allocating in proportion to a count it has
// not validated.
func TestMalformedInputs(t *testing.T) {
	cases := malformedInputs(t)
	if len(cases) < 25 {
		t.Fatalf("only %d malformed cases", len(cases))
	}
	dir := t.TempDir()
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("input-%d", i))
			if tc.setup != nil {
				path = tc.setup(t, t.TempDir())
			} else if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			err := analyse(path)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			if err == nil && !tc.mayPass {
				t.Error("no error")
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			if err != nil && strings.Contains(err.Error(), "parser failed") {
				t.Errorf("a parser panicked: %v", err)
			}
			if elapsed > 2*time.Second {
				t.Errorf("took %v", elapsed)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
		})
	}
}

// analyse opens path and builds its reports, as the CLI does for one input:
// the sends, then every type.
func analyse(path string) error {
	obj, err := Open(path, Options{Clang: ClangOptions{Path: "/nonexistent/clang"}})
	if err != nil {
		return err
	}
	defer obj.Close()
	if _, err := obj.Report(Request{}); err != nil && !errors.Is(err, ErrNoSelection) {
		return err
	}
	_, err = obj.Report(Request{All: true})
	return err
}

// FuzzOpen feeds mutated objects, BTF and reports through the whole
// pipeline of one input: load, sites, types.
func FuzzOpen(f *testing.F) {
	for _, name := range []string{"ringbuf-el.elf", "subprog-eb.elf", "dynamic-el.stripped.elf", "bad/truncated.elf"} {
		f.Add(readFixture(f, name))
	}
	f.Add(rawKernelBTF(f, &btf.Struct{Name: "s", Size: 8, Members: []btf.Member{{Name: "a", Type: &btf.Int{Name: "long", Size: 8}}}}))
	f.Add([]byte(`{"version": 1, "header_size": 8, "sites": [], "types": []}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 0 && isText(data[:min(len(data), 512)]) && !isJSON(data) {
			return // C sources go to clang, not to our parsers
		}
		path := filepath.Join(t.TempDir(), "input")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		obj, err := open(path, Options{}) // without the recover of Open: find our panics
		if err != nil {
			return
		}
		defer obj.Close()
		if obj.Kind == KindObject {
			if _, err := obj.Sites(SiteOptions{HeaderSize: HeaderSize}); err != nil {
				return
			}
		}
		obj.Report(Request{All: true}) // through the raw BTF index, where there is one
		all, err := obj.All(false)
		if err != nil {
			return
		}
		for _, found := range all {
			found.Layout()
		}
	})
}

// FuzzScanEnums checks the raw BTF scanner of the host check.
func FuzzScanEnums(f *testing.F) {
	f.Add(rawKernelBTF(f, &btf.Enum{Size: 4, Values: []btf.EnumValue{{Name: "BPF_RINGBUF_HDR_SZ", Value: 8}}}))
	f.Fuzz(func(t *testing.T, raw []byte) {
		scanEnums(raw, targetEnums)
	})
}
