package btfsize

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// byteOrders are the suffixes of the fixtures built for each byte order.
var byteOrders = []string{"el", "eb"}

func openFixture(t *testing.T, name string) *Object {
	t.Helper()
	obj, err := Open(filepath.Join("..", "testdata", name), Options{})
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(func() { obj.Close() })
	return obj
}

func lookupOne(t *testing.T, obj *Object, name string) *Layout {
	t.Helper()
	found := obj.Lookup(name)
	if len(found) != 1 {
		t.Fatalf("%s: %d types named %s, want 1", obj.Path, len(found), name)
	}
	l, err := found[0].Layout()
	if err != nil {
		t.Fatalf("measure %s: %v", name, err)
	}
	return l
}

func TestLayoutFixtures(t *testing.T) {
	for _, tc := range []struct {
		name                           string
		size, align                    uint32
		holes, holeBytes               int
		bitHoles, bitHoleBits, padding int
		optimal                        uint32
	}{
		{"struct alert", 32, 8, 2, 9, 0, 0, 7, 16},
		{"struct bitfields", 24, 8, 1, 1, 4, 37, 2, 24},
		{"struct packed_hdr", 15, 1, 0, 0, 0, 0, 0, 15},
		{"struct aligned_member", 48, 16, 1, 12, 0, 0, 14, 32},
		{"struct flex_msg", 8, 4, 0, 0, 0, 0, 2, 8},
		{"union layout_union", 16, 8, 0, 0, 0, 0, 4, 16},
		{"struct with_enums", 16, 8, 1, 3, 0, 0, 0, 16},
		{"struct matrix", 64, 4, 0, 0, 0, 0, 3, 64},
		{"struct rec128", 128, 8, 0, 0, 0, 0, 0, 128},
		{"struct rec39", 39, 1, 0, 0, 0, 0, 0, 39},
		{"struct local_only", 24, 8, 1, 2, 0, 0, 7, 16},
	} {
		for _, bo := range byteOrders {
			file := "layout-" + bo + ".elf"
			if tc.name == "struct alert" {
				file = "ringbuf-" + bo + ".elf"
			}
			t.Run(tc.name+"/"+bo, func(t *testing.T) {
				l := lookupOne(t, openFixture(t, file), tc.name)
				got := []any{l.Size, l.Align, l.Holes, int(l.HoleBytes), l.BitHoles, int(l.BitHoleBits), int(l.Padding), l.OptimalSize}
				want := []any{tc.size, tc.align, tc.holes, tc.holeBytes, tc.bitHoles, tc.bitHoleBits, tc.padding, tc.optimal}
				for i := range got {
					if got[i] != want[i] {
						t.Errorf("size, align, holes, hole bytes, bit holes, bit hole bits, padding, optimal = %v, want %v", got, want)
						break
					}
				}
			})
		}
	}
}

// The optimal order keeps the layout valid: every member aligned, none
// overlapping, a flexible array last, and the size never larger.
func TestOptimalOrder(t *testing.T) {
	obj := openFixture(t, "ringbuf-el.elf")
	l := lookupOne(t, obj, "struct alert")
	var names []string
	for _, i := range l.OptimalOrder {
		names = append(names, l.Members[i].Name)
	}
	if got, want := strings.Join(names, ","), "ts,addr,port,kind,flag"; got != want {
		t.Errorf("optimal order %s, want %s", got, want)
	}
	flex := lookupOne(t, openFixture(t, "layout-el.elf"), "struct flex_msg")
	if last := flex.Members[flex.OptimalOrder[len(flex.OptimalOrder)-1]]; last.Name != "data" {
		t.Errorf("flexible array member moved: last member is %s", last.Name)
	}
}

func TestAlignofLibbpfRules(t *testing.T) {
	u8 := &btf.Int{Name: "u8", Size: 1}
	u32 := &btf.Int{Name: "u32", Size: 4}
	u64 := &btf.Int{Name: "u64", Size: 8}
	i128 := &btf.Int{Name: "__int128", Size: 16}
	for _, tc := range []struct {
		name string
		typ  btf.Type
		want uint32
	}{
		{"int", u32, 4},
		{"int128 capped at pointer size", i128, 8},
		{"pointer", &btf.Pointer{Target: u8}, 8},
		{"array of u32", &btf.Array{Type: u32, Nelems: 3}, 4},
		{"typedef", &btf.Typedef{Name: "t", Type: u64}, 8},
		{"natural struct", &btf.Struct{Size: 16, Members: []btf.Member{{Type: u8}, {Type: u64, Offset: 64}}}, 8},
		// A member at an offset its type's alignment forbids: packed.
		{"misaligned member", &btf.Struct{Size: 9, Members: []btf.Member{{Type: u8}, {Type: u64, Offset: 8}}}, 1},
		// A size that is not a multiple of the alignment: packed.
		{"odd size", &btf.Struct{Size: 12, Members: []btf.Member{{Type: u64}, {Type: u32, Offset: 64}}}, 1},
		// Bitfields may sit anywhere.
		{"bitfield", &btf.Struct{Size: 4, Members: []btf.Member{{Type: u32, Offset: 3, BitfieldSize: 5}}}, 4},
	} {
		got, err := Alignof(tc.typ, nil)
		if err != nil || got != tc.want {
			t.Errorf("%s: Alignof = %d, %v; want %d", tc.name, got, err, tc.want)
		}
	}
	if _, err := Alignof(&btf.Fwd{Name: "x"}, nil); err == nil {
		t.Error("Alignof(fwd) succeeded")
	}
}

func TestMeasureRejects(t *testing.T) {
	if _, err := Measure(&btf.Int{Name: "int", Size: 4}, nil); err == nil {
		t.Error("Measure(int) succeeded")
	}
	if _, err := Measure(&btf.Fwd{Name: "x"}, nil); err == nil {
		t.Error("Measure(fwd) succeeded")
	}
}

// pahole is the reference for holes and padding: every struct of every
// fixture must read the same, from BTF and from DWARF.
func TestAgainstPahole(t *testing.T) {
	if _, err := exec.LookPath("pahole"); err != nil {
		t.Skip("pahole not installed")
	}
	objects, _ := filepath.Glob(filepath.Join("..", "testdata", "*-el.elf"))
	checked := 0
	for _, path := range objects {
		obj := openFixture(t, filepath.Base(path))
		for _, format := range []string{"btf", "dwarf"} {
			out, err := exec.Command("pahole", "-F", format, path).Output()
			if err != nil {
				continue // no DWARF in a stripped or linked object
			}
			for name, want := range parsePahole(string(out)) {
				found := obj.Lookup(name)
				if len(found) == 0 {
					t.Errorf("%s: pahole -F %s reads %s, btfsize does not", path, format, name)
					continue
				}
				l, err := found[0].Layout()
				if err != nil {
					t.Errorf("%s: %s: %v", path, name, err)
					continue
				}
				got := paholeStats{int(l.Size), l.Holes, int(l.HoleBytes), l.BitHoles, int(l.BitHoleBits), int(l.Padding)}
				if got != want {
					t.Errorf("%s: %s: btfsize %+v, pahole -F %s %+v", path, name, got, format, want)
				}
				checked++
			}
		}
	}
	if checked < 20 {
		t.Errorf("compared only %d structs with pahole", checked)
	}
}

// paholeStats are the figures of pahole's summary comment.
type paholeStats struct {
	size, holes, sumHoles, bitHoles, sumBitHoles, padding int
}

var (
	reStructStart = regexp.MustCompile(`(?m)^(struct|union) (\w+) \{`)
	reStat        = regexp.MustCompile(`(size|holes|sum holes|bit holes|sum bit holes|padding): (\d+)`)
)

// parsePahole reads the summary of every named struct pahole prints.
// Unions are left out: pahole prints no summary for them.
func parsePahole(out string) map[string]paholeStats {
	stats := map[string]paholeStats{}
	for _, block := range strings.Split(out, "\n}") {
		m := reStructStart.FindStringSubmatch(block)
		if m == nil || m[1] != "struct" {
			continue
		}
		var s paholeStats
		for _, line := range strings.Split(block[strings.Index(block, m[0]):], "\n") {
			summary := strings.HasPrefix(strings.TrimSpace(line), "/* size:") || strings.Contains(line, "holes:") ||
				strings.HasPrefix(strings.TrimSpace(line), "/* padding:")
			if !summary || strings.Contains(line, "forced") {
				continue
			}
			for _, st := range reStat.FindAllStringSubmatch(line, -1) {
				n, _ := strconv.Atoi(st[2])
				switch st[1] {
				case "size":
					s.size = n
				case "holes":
					s.holes = n
				case "sum holes":
					s.sumHoles = n
				case "bit holes":
					s.bitHoles = n
				case "sum bit holes":
					s.sumBitHoles = n
				case "padding":
					s.padding = n
				}
			}
		}
		stats["struct "+m[2]] = s
	}
	return stats
}

// Every struct pahole reads from the host's kernel BTF has the same size,
// holes, bit holes and padding in btfsize.
func TestKernelAgainstPahole(t *testing.T) {
	if _, err := exec.LookPath("pahole"); err != nil {
		t.Skip("pahole not installed")
	}
	obj, err := Open(kernelBTF, Options{})
	if err != nil {
		t.Skip("no kernel BTF")
	}
	// pahole may warn about kinds it does not know; it still prints the rest.
	out, _ := exec.Command("pahole", "-F", "btf", kernelBTF).Output()
	want := parsePahole(string(out))
	if len(want) < 1000 {
		t.Skipf("pahole read only %d structs", len(want))
	}
	mismatches, skipped := 0, 0
	for name, st := range want {
		var got []paholeStats
		found := obj.Lookup(name)
		if slices.ContainsFunc(found, func(f Found) bool { return hasTags(f.Type) }) {
			// pahole 1.24 reads no type or decl tags: its figures for
			// these may be wrong, whatever btfsize says.
			skipped++
			continue
		}
		for _, f := range found {
			l, err := f.Layout()
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			got = append(got, paholeStats{int(l.Size), l.Holes, int(l.HoleBytes), l.BitHoles, int(l.BitHoleBits), int(l.Padding)})
		}
		if !slices.Contains(got, st) {
			mismatches++
			if mismatches <= 20 {
				t.Errorf("%s: btfsize %+v, pahole %+v", name, got, st)
			}
		}
	}
	if mismatches > 0 {
		t.Errorf("%d of %d structs differ from pahole", mismatches, len(want)-skipped)
	}
	t.Logf("%d structs agree with pahole; %d with BTF tags not compared", len(want)-skipped-mismatches, skipped)
}

// hasTags reports a struct whose members carry BTF type or decl tags.
func hasTags(t btf.Type) bool {
	c, _ := Composite(t)
	var members []btf.Member
	switch c := c.(type) {
	case *btf.Struct:
		if len(c.Tags) > 0 {
			return true
		}
		members = c.Members
	case *btf.Union:
		if len(c.Tags) > 0 {
			return true
		}
		members = c.Members
	}
	for _, m := range members {
		if len(m.Tags) > 0 {
			return true
		}
		inner := m.Type
		for range maxDepth {
			if _, ok := inner.(*btf.TypeTag); ok {
				return true
			}
			switch u := inner.(type) {
			case *btf.Pointer:
				inner = u.Target
			case *btf.Const:
				inner = u.Type
			case *btf.Volatile:
				inner = u.Type
			case *btf.Array:
				inner = u.Type
			default:
				inner = nil
			}
			if inner == nil {
				break
			}
		}
	}
	return false
}
