package btfsize

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf/btf"
)

// decodedAll is what --all reports of raw BTF through the type decoder:
// All, then Info of each type, as Object.Report does without allRaw. ok is
// false when the decoder refuses the BTF or a type cannot be measured.
func decodedAll(t testing.TB, raw []byte) (types []TypeInfo, ok bool) {
	t.Helper()
	spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
	if err != nil {
		return nil, false
	}
	obj := &Object{Path: "in.btf", Kind: KindRawBTF, spec: spec}
	all, err := obj.All(false)
	if err != nil {
		return nil, false
	}
	r := &Report{}
	for _, f := range all {
		ti, err := f.Info(HeaderSize)
		if err != nil {
			return nil, false
		}
		r.Types = append(r.Types, ti)
	}
	r.Normalize()
	return r.Types, true
}

// rawAll is the same through the raw reader; ok is false where it leaves
// the BTF to the decoder. It measures even when the references check fails,
// as allRaw does while the check runs: that must not panic.
func rawAll(raw []byte, workers int) (types []TypeInfo, ok bool) {
	r, err := parseRawTypes(raw)
	if err != nil {
		return nil, false
	}
	refs := r.checkRefs(workers)
	types, err = newRawMeasurer(r).all(HeaderSize, "in.btf", workers)
	if err != nil || refs != nil {
		return nil, false
	}
	if types == nil {
		types = []TypeInfo{}
	}
	return types, true
}

// bothMeasure requires the decoder and the raw reader to measure every type
// of raw, and identically, and returns what they measure.
func bothMeasure(t *testing.T, raw []byte) []TypeInfo {
	t.Helper()
	want, ok := decodedAll(t, raw)
	if !ok {
		t.Fatal("the decoder cannot measure it")
	}
	got, ok := rawAll(raw, 1)
	if !ok {
		t.Fatal("the raw reader leaves it to the decoder")
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("raw %+v\ndecoder %+v", got, want)
	}
	return want
}

// writeTemp writes data to a file of that name in a new temporary folder.
func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// reportAll is the --all report of raw written to a file of that name,
// which must open.
func reportAll(t *testing.T, name string, raw []byte) (*Report, error) {
	t.Helper()
	obj, err := Open(writeTemp(t, name, raw), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	return obj.Report(Request{All: true})
}

// fixtureBTF returns the .BTF sections of the fixtures, both byte orders,
// and the split fixtures' base.
func fixtureBTF(t testing.TB) map[string][]byte {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "*.elf"))
	out := map[string][]byte{}
	for _, p := range paths {
		raw, err := readBTF(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[filepath.Base(p)] = raw
	}
	out["split/base.btf"] = readFixture(t, "split/base.btf")
	if len(out) < 20 {
		t.Fatalf("found %d fixtures with BTF", len(out))
	}
	return out
}

// TestRawAllMatchesDecoder: measuring straight from raw BTF gives the very
// report the type decoder gives, on every fixture and on the host kernel.
func TestRawAllMatchesDecoder(t *testing.T) {
	inputs := fixtureBTF(t)
	if raw, err := os.ReadFile(kernelBTF); err == nil {
		inputs["vmlinux"] = raw
	}
	for name, raw := range inputs {
		want, ok := decodedAll(t, raw)
		if !ok {
			t.Fatalf("%s: the decoder cannot measure it", name)
		}
		for _, workers := range []int{1, 2, 3} {
			got, ok := rawAll(raw, workers)
			if !ok {
				t.Fatalf("%s: the raw reader leaves it to the decoder", name)
			}
			if len(got) != len(want) {
				t.Fatalf("%s, %d workers: %d types, decoder %d", name, workers, len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("%s, %d workers: type %d differs:\nraw     %+v\ndecoder %+v", name, workers, i, got[i], want[i])
				}
			}
		}
		if name == "vmlinux" && len(want) < 1000 {
			t.Errorf("vmlinux: only %d types", len(want))
		}
	}
}

// TestRawAllLegacyBitfields: bitfields without the kind flag, whose offset
// and width are in the int type, as old compilers wrote them.
func TestRawAllLegacyBitfields(t *testing.T) {
	u32 := &btf.Int{Name: "unsigned int", Size: 4}
	raw := rawKernelBTF(t, &btf.Struct{Name: "flags", Size: 16, Members: []btf.Member{
		{Name: "a", Type: u32, Offset: 0, BitfieldSize: 3},
		{Name: "b", Type: u32, Offset: 3, BitfieldSize: 5},
		{Name: "c", Type: &btf.Int{Name: "long", Size: 8, Encoding: btf.Signed}, Offset: 64},
	}})
	// The builder writes the kind flag; clear it and move each width and
	// offset into a bitfield int of its own, as legacy BTF does.
	legacy := toLegacyBitfields(t, raw)
	m := bothMeasure(t, legacy)[0].Members
	if m[1].BitSize != 5 || m[1].BitOffset != 3 {
		t.Errorf("member b: bit offset %d size %d, want 3 and 5", m[1].BitOffset, m[1].BitSize)
	}
}

// toLegacyBitfields rewrites the first struct of raw, made by the builder
// from a struct whose bitfields use the kind flag, into legacy form: no
// kind flag, and for each bitfield member a new int type carrying the
// member's bit offset and width.
func toLegacyBitfields(t *testing.T, raw []byte) []byte {
	t.Helper()
	r, err := parseRawTypes(raw)
	if err != nil {
		t.Fatal(err)
	}
	out := bytes.Clone(raw)
	bo := binary.LittleEndian
	typeOff := int(bo.Uint32(raw[4:])) + int(bo.Uint32(raw[8:]))
	var extra []byte
	next := uint32(r.count() + 1)
	for id := uint32(1); int(id) <= r.count(); id++ {
		if r.kind(id) != kindStruct {
			continue
		}
		at := typeOff + int(r.offs[id-1])
		info := bo.Uint32(out[at+4:])
		bo.PutUint32(out[at+4:], info&^(1<<31))
		for i := range int(info & 0xffff) {
			m := out[at+12+i*12:]
			off := bo.Uint32(m[8:])
			bits := off >> 24
			if bits == 0 {
				continue
			}
			it := r.at(bo.Uint32(m[4:]))
			// A new int: name, info (kind int), size, then encoding with
			// the offset within the unit and the width.
			var rec [16]byte
			bo.PutUint32(rec[0:], it.nameOff)
			bo.PutUint32(rec[4:], kindInt<<24)
			bo.PutUint32(rec[8:], it.sizeType)
			bo.PutUint32(rec[12:], (off&0xffffff%32)<<16|bits)
			extra = append(extra, rec[:]...)
			bo.PutUint32(m[4:], next)
			bo.PutUint32(m[8:], off&0xffffff-off&0xffffff%32)
			next++
		}
		break
	}
	// Append the new ints to the type section and move the strings after.
	typeEnd := typeOff + int(bo.Uint32(raw[12:]))
	res := append(append(append([]byte{}, out[:typeEnd]...), extra...), out[typeEnd:]...)
	bo.PutUint32(res[12:], bo.Uint32(raw[12:])+uint32(len(extra)))
	bo.PutUint32(res[16:], bo.Uint32(raw[16:])+uint32(len(extra)))
	return res
}

// FuzzRawAll: whatever BTF the raw reader measures, the decoder accepts and
// measures identically; the raw reader never panics.
func FuzzRawAll(f *testing.F) {
	for _, raw := range fixtureBTF(f) {
		if len(raw) < 64<<10 {
			f.Add(raw)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		start := time.Now()
		defer func() {
			if d := time.Since(start); d > time.Second {
				t.Fatalf("%d bytes took %v", len(raw), d)
			}
		}()
		if _, err := parseRawTypes(raw); err != nil {
			return
		}
		if _, err := btf.LoadSpecFromReader(bytes.NewReader(raw)); err != nil {
			t.Fatalf("raw reader accepts what the decoder refuses: %v", err)
		}
		got, ok := rawAll(raw, 2)
		if !ok {
			return
		}
		want, ok := decodedAll(t, raw)
		if !ok {
			t.Fatal("raw reader measures what the decoder cannot")
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("raw %+v\ndecoder %+v", got, want)
		}
	})
}

// TestRawAllFallsBack: BTF holding a type that cannot be measured is left
// to the decoder, which reports the others and warns of that one.
func TestRawAllFallsBack(t *testing.T) {
	long := &btf.Int{Name: "long", Size: 8, Encoding: btf.Signed}
	raw := rawKernelBTF(t,
		&btf.Struct{Name: "ok", Size: 8, Members: []btf.Member{{Name: "a", Type: long}}},
		&btf.Struct{Name: "broken", Size: 8, Members: []btf.Member{{Name: "f", Type: &btf.Fwd{Name: "later"}}}},
	)
	if _, ok := rawAll(raw, 1); ok {
		t.Fatal("raw reader measured a struct holding a forward declaration")
	}
	r, err := reportAll(t, "in.btf", raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Types) != 1 || r.Types[0].Name != "struct ok" {
		t.Errorf("types %+v, want struct ok alone", r.Types)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0].Message, "struct broken: cannot measure") {
		t.Errorf("warnings %+v, want one about struct broken", r.Warnings)
	}
}

// TestKernelImageAll: a kernel image (an ELF with DWARF and .BTF, as pahole
// -J writes vmlinux) reports the same types as its raw BTF, both measured
// from the raw bytes; raw BTF is not even decoded.
func TestKernelImageAll(t *testing.T) {
	var reports [2]*Report
	for i, name := range []string{"split/base.elf", "split/base.btf"} {
		obj, err := Open(filepath.Join("..", "testdata", name), Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer obj.Close()
		if obj.raw == nil {
			t.Fatalf("%s: no raw BTF index", name)
		}
		r, err := obj.Report(Request{All: true})
		if err != nil {
			t.Fatal(err)
		}
		if obj.Kind == KindRawBTF && obj.spec != nil {
			t.Errorf("%s: decoded for --all", name)
		}
		for j := range r.Types {
			r.Types[j].Object = ""
		}
		reports[i] = r
	}
	if len(reports[0].Types) != 2 {
		t.Fatalf("%d types", len(reports[0].Types))
	}
	if !reflect.DeepEqual(reports[0], reports[1]) {
		t.Errorf("image %+v\nraw %+v", reports[0], reports[1])
	}
}

// TestHugeBitfieldUnit: a bitfield whose type is 512 MiB has a storage unit
// too large to count in bits; both readers measure it without dividing by
// the zero that unit wraps to.
func TestHugeBitfieldUnit(t *testing.T) {
	u8 := &btf.Int{Name: "u8", Size: 1}
	raw := rawKernelBTF(t, &btf.Struct{Name: "huge", Size: 1 << 29, Members: []btf.Member{
		{Name: "f", Type: &btf.Array{Index: u8, Type: u8, Nelems: 1 << 29}, Offset: 5, BitfieldSize: 3},
	}})
	if m := bothMeasure(t, raw)[0].Members[0]; m.BitOffset != 5 || m.BitSize != 3 {
		t.Errorf("member %+v", m)
	}
}

// TestRawSelectMatchesDecoder: -t with globs on raw BTF selects, from the
// raw bytes, what Select selects from decoded types; a glob that selects
// nothing is still the decoder path's error, with its suggestions.
func TestRawSelectMatchesDecoder(t *testing.T) {
	path := filepath.Join("..", "testdata", "split", "base.btf")
	globs := [][]string{{"*"}, {"sock*"}, {"struct in6*", "union *"}, {"struct *", "sock_common"}}
	if _, err := os.Stat(kernelBTF); err == nil {
		path = kernelBTF
		globs = append(globs, []string{"sk_*,struct bpf_*"}, []string{"union *"}, []string{"*_t"})
	}
	for _, g := range globs {
		m, err := NewMatcher(g)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := obj.Report(Request{Types: m})
		if err != nil {
			t.Fatalf("%q: %v", g, err)
		}
		if obj.spec != nil {
			t.Errorf("%q: decoded", g)
		}
		obj.Close()
		decoded, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		found, err := decoded.Select(m)
		if err != nil {
			t.Fatal(err)
		}
		want := &Report{}
		for _, f := range found {
			ti, err := f.Info(HeaderSize)
			if err != nil {
				t.Fatal(err)
			}
			want.Types = append(want.Types, ti)
		}
		want.Normalize()
		decoded.Close()
		if len(got.Types) == 0 || !reflect.DeepEqual(got.Types, want.Types) {
			t.Errorf("%q: raw %d types, decoder %d", g, len(got.Types), len(want.Types))
		}
	}
	m, _ := NewMatcher([]string{"sock*", "nothing_like_it*"})
	obj, err := Open(filepath.Join("..", "testdata", "split", "base.btf"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if _, err := obj.Report(Request{Types: m}); err == nil || !strings.Contains(err.Error(), "nothing_like_it*") {
		t.Errorf("a glob selecting nothing: %v", err)
	}
}

// TestRawTypedefNamedLikeStruct: a typedef whose name is "struct foo" is not
// the twin of struct foo, though both are reported as "struct foo".
func TestRawTypedefNamedLikeStruct(t *testing.T) {
	u32 := &btf.Int{Name: "u32", Size: 4}
	s := &btf.Struct{Name: "foo", Size: 4, Members: []btf.Member{{Name: "a", Type: u32}}}
	raw := rawKernelBTF(t, s, &btf.Typedef{Name: "struct foo", Type: s})
	if types := bothMeasure(t, raw); len(types) != 2 {
		t.Fatalf("%d types, want struct foo and the typedef", len(types))
	}
}

// TestRawAlignDepth: alignments remembered from one walk do not let a
// later walk nest deeper than the decoder allows. Three chains of 32
// structs, each holding the next, nest 96 deep; the decoder cannot measure
// the outer ones, and the raw reader must not either.
func TestRawAlignDepth(t *testing.T) {
	chain := func(prefix string, last btf.Type) *btf.Struct {
		next := last
		for i := 31; i >= 0; i-- {
			next = &btf.Struct{Name: fmt.Sprintf("%s%d", prefix, i), Size: 8, Members: []btf.Member{{Name: "m", Type: next}}}
		}
		return next.(*btf.Struct)
	}
	long := &btf.Int{Name: "long", Size: 8, Encoding: btf.Signed}
	raw := rawKernelBTF(t, chain("c", chain("b", chain("a", long))))
	if got, ok := rawAll(raw, 1); ok {
		t.Fatalf("raw reader measured %d types the decoder cannot all measure", len(got))
	}
	r, err := reportAll(t, "deep.btf", raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0].Message, "nests too deep") {
		t.Errorf("warnings %+v, want the decoder's about nesting", r.Warnings)
	}
}

// TestRawManyTwins: 200,000 structs of one name and as many sizes are
// measured in linear time, not by comparing each with all before it.
func TestRawManyTwins(t *testing.T) {
	const n = 200_000
	le := binary.LittleEndian
	types := make([]byte, 0, 12*n)
	for i := range n {
		types = le.AppendUint32(types, 1)              // name "s"
		types = le.AppendUint32(types, kindStruct<<24) // no members
		types = le.AppendUint32(types, uint32(i))      // size
	}
	strs := []byte("\x00s\x00")
	raw := []byte{0x9f, 0xeb, 1, 0}
	for _, v := range []uint32{btfHeaderLen, 0, uint32(len(types)), uint32(len(types)), uint32(len(strs))} {
		raw = le.AppendUint32(raw, v)
	}
	raw = append(append(raw, types...), strs...)
	start := time.Now()
	got, ok := rawAll(raw, 2)
	if !ok || len(got) != n {
		t.Fatalf("%d types, ok %v", len(got), ok)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	for i := range got {
		if got[i].Size != uint64(i) {
			t.Fatalf("type %d has size %d: not in id order", i, got[i].Size)
		}
	}
}

// TestKernelImageChecks: what the decoder refuses in a kernel image around
// its .BTF is refused at Open, before the raw reader could measure it: no
// symbol table, BTF of the other byte order.
func TestKernelImageChecks(t *testing.T) {
	objcopy, err := exec.LookPath("llvm-objcopy")
	if err != nil {
		t.Skip("llvm-objcopy not installed")
	}
	image := filepath.Join("..", "testdata", "split", "base.elf")
	dir := t.TempDir()
	raw, err := readBTF(filepath.Join("..", "testdata", "ringbuf-eb.elf"))
	if err != nil {
		t.Fatal(err)
	}
	be := writeTemp(t, "be.btf", raw)
	for _, tc := range []struct {
		name, want string
		args       []string
	}{
		{"no symbols", "symbol", []string{"--strip-all", "--keep-section", ".BTF"}},
		{"big-endian BTF", "byte order", []string{"--update-section", ".BTF=" + be}},
	} {
		out := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
		if msg, err := exec.Command(objcopy, append(tc.args, image, out)...).CombinedOutput(); err != nil {
			t.Fatalf("%s: llvm-objcopy: %v: %s", tc.name, err, msg)
		}
		obj, err := Open(out, Options{})
		if err == nil {
			obj.Close()
			t.Errorf("%s: opened", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want it to say %q", tc.name, err, tc.want)
		}
	}
}

// TestRawDanglingReference: a member whose type does not exist is the
// input's error. The decoder's walk of every type stops there without a
// word, which reported the types before it as if they were all.
func TestRawDanglingReference(t *testing.T) {
	u32 := &btf.Int{Name: "u32", Size: 4}
	raw := rawKernelBTF(t,
		&btf.Struct{Name: "a", Size: 4, Members: []btf.Member{{Name: "x", Type: u32}}},
		&btf.Struct{Name: "b", Size: 4, Members: []btf.Member{{Name: "y", Type: u32}}})
	r, err := parseRawTypes(raw)
	if err != nil {
		t.Fatal(err)
	}
	// The member of struct b points past the end.
	b := uint32(0)
	for id := uint32(1); int(id) <= r.count(); id++ {
		if r.kind(id) == kindStruct && r.name(r.nameOff(id)) == "b" {
			b = id
		}
	}
	if b == 0 {
		t.Fatal("no struct b")
	}
	at := btfHeaderLen + int(r.offs[b-1]) + 12 + 4
	binary.LittleEndian.PutUint32(raw[at:], 999)
	rep, err := reportAll(t, "dangling.btf", raw)
	if err == nil || !strings.Contains(err.Error(), "refers to type 999") {
		t.Errorf("report %+v, error %v; want the dangling reference named", rep, err)
	}
}

// TestObjectDanglingReference: in an eBPF object too, a member of a type
// that does not exist is an error at Open, not types silently missing.
func TestObjectDanglingReference(t *testing.T) {
	obj := readFixture(t, "ringbuf-el.elf")
	ef, err := elf.NewFile(bytes.NewReader(obj))
	if err != nil {
		t.Fatal(err)
	}
	sec := ef.Section(".BTF")
	raw, err := sec.Data()
	if err != nil {
		t.Fatal(err)
	}
	r, err := parseRawTypes(raw)
	if err != nil {
		t.Fatal(err)
	}
	patched := false
	for id := uint32(1); int(id) <= r.count() && !patched; id++ {
		if t := r.at(id); t.kind == kindStruct && t.vlen > 0 {
			hdrLen := int(binary.LittleEndian.Uint32(raw[4:]))
			typeOff := int(binary.LittleEndian.Uint32(raw[8:]))
			at := int(sec.Offset) + hdrLen + typeOff + int(r.offs[id-1]) + 12 + 4
			binary.LittleEndian.PutUint32(obj[at:], 99999)
			patched = true
		}
	}
	if !patched {
		t.Fatal("no struct with members in the fixture")
	}
	o, err := Open(writeTemp(t, "dangling.elf", obj), Options{})
	if err == nil {
		o.Close()
		t.Fatal("opened")
	}
	if !strings.Contains(err.Error(), "refers to type 99999") {
		t.Errorf("error %v, want the dangling reference named", err)
	}
}
