package btfsize

import (
	"bufio"
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
)

// dwarfTypesSrc declares one of each kind of type. Globals keep the types
// in the debug info; struct local_only is used by a local only, so it is
// missing from .BTF.
const dwarfTypesSrc = `
typedef unsigned int u32;
typedef u32 pid32;
typedef pid32 my_pid;

struct base {
	char c; signed char sc; unsigned char uc;
	short s; unsigned short us;
	int i; unsigned int u;
	long l; unsigned long ul;
	long long ll; unsigned long long ull;
	_Bool b; float f; double d; void *p;
};

struct inner { int x; short y; };
struct nested { char tag; struct inner in; struct inner arr[2]; };

union val { int i; long long ll; char bytes[12]; };

struct anon {
	int kind;
	union { int a; long long b; };
	struct { char c; short d; };
};

struct bits {
	unsigned int a:3;
	unsigned int b:5;
	int c:7;
	unsigned long long d:40;
	char e;
};

struct packed { char c; int i; long long l; } __attribute__((packed));

struct aligned { char c; int x __attribute__((aligned(16))); };
struct over { int v; } __attribute__((aligned(16)));
typedef int aligned_int __attribute__((aligned(8)));
struct holds_over { char c; struct over o; };

struct flex { int n; char data[]; };

enum e1 { E1_A, E1_B = 200 } __attribute__((packed));
enum e4 { E4_NEG = -1, E4_POS = 5 };
enum e8 { E8_A = 1, E8_BIG = 0x100000000ULL };

struct multi { int m[2][3]; char grid[4][5][6]; };

struct node {
	int v;
	struct node *next;
	struct node *kids[2];
};

struct opaque;
struct quals {
	struct opaque *o;
	void (*cb)(int, struct node *);
	const volatile int cv;
	int *restrict rp;
	my_pid pid;
};

typedef struct { int x; int y; } point_t;

struct local_only { u32 pid; char comm[16]; };

struct base g_base;
struct nested g_nested;
union val g_val;
struct anon g_anon;
struct bits g_bits;
struct packed g_packed;
struct aligned g_aligned;
struct holds_over g_holds_over;
aligned_int g_aligned_int;
struct flex g_flex;
enum e1 g_e1;
enum e4 g_e4;
enum e8 g_e8;
struct multi g_multi;
struct node g_node;
struct quals g_quals;
point_t g_point;

int use_local(int v)
{
	struct local_only lo = { .pid = v };
	return ((volatile struct local_only *)&lo)->comm[v & 7];
}
`

// dwarfProgSrc keeps two structs on the stack and passes their addresses to
// bpf_ringbuf_output, uses an inlined helper with a local of its own, and
// has subprograms whose locals live at the bottom of their frames and in
// location lists.
const dwarfProgSrc = `
#define SEC(n) __attribute__((section(n), used))
#define __uint(name, val) int (*name)[val]

typedef unsigned int u32;
typedef unsigned long long u64;

static long (* const bpf_ringbuf_output)(void *ringbuf, void *data, unsigned long long size, unsigned long long flags) = (void *) 130;
static long (* const bpf_probe_read_kernel)(void *dst, u32 size, const void *unsafe_ptr) = (void *) 113;

struct { __uint(type, 27); __uint(max_entries, 4096); } rb SEC(".maps");
struct { __uint(type, 27); __uint(max_entries, 8192); } rb2 SEC(".maps");

struct event { u32 pid; u64 ts; char comm[16]; };
struct other { u64 a, b, c; };
struct inner { int x; };

static __attribute__((always_inline)) inline void fill(struct event *e, int v)
{
	struct inner tmp = { .x = v };
	bpf_probe_read_kernel(&tmp, sizeof(tmp), (void *)(long)v);
	e->pid = tmp.x;
}

__attribute__((noinline)) int sub(int k)
{
	struct inner z = { k };
	bpf_probe_read_kernel(&z, sizeof(z), 0);
	return z.x;
}

__attribute__((noinline)) int looped(int n)
{
	int sum = 0;
	for (int i = 0; i < 3; i++) {
		long q = i * 5;
		bpf_probe_read_kernel(&q, sizeof(q), 0);
		sum += q;
	}
	return sum;
}

/* The frame is aligned to 16 here, which moves where fbreg counts from. */
struct al16 { long a; } __attribute__((aligned(16)));

__attribute__((noinline)) long aligned_frame(void)
{
	struct al16 x;
	long y;

	bpf_probe_read_kernel(&x, sizeof(x), 0);
	bpf_probe_read_kernel(&y, sizeof(y), 0);
	return x.a + y;
}

SEC("tp/sched/sched_process_exec")
int handle(void *ctx)
{
	struct event ev = {};
	struct other o = {};

	ev.ts = 7;
	fill(&ev, 3);
	ev.pid += sub(2) + looped(3) + aligned_frame();
	o.a = ev.pid;
	bpf_ringbuf_output(&rb, &o, sizeof(o), 0);
	bpf_ringbuf_output(&rb2, &ev, sizeof(ev), 0);
	return 0;
}
`

// dwarfVariants are the debug info flavours clang produces: DWARF 5 with
// the DWARF 2 bitfield form (the default, tuned for gdb), DWARF 5 with
// DW_AT_data_bit_offset, DWARF 4 with .debug_loc, and compressed sections.
var dwarfVariants = []struct {
	name  string
	flags []string
}{
	{"dwarf5", []string{"-g"}},
	{"data_bit_offset", []string{"-g", "-glldb"}},
	{"dwarf4", []string{"-gdwarf-4"}},
	{"compressed", []string{"-g", "-gz"}},
}

var bpfTargets = []string{"bpfel", "bpfeb"}

func requireClang(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("clang"); err != nil {
		tb.Skip("clang not on PATH")
	}
}

// compileC compiles src with clang into a temporary object and returns its path.
func compileC(tb testing.TB, src string, args ...string) string {
	tb.Helper()
	dir := tb.TempDir()
	in := filepath.Join(dir, "types.c")
	out := filepath.Join(dir, "types.o")
	if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}

	args = append(slices.Clone(args), in, "-o", out)
	if msg, err := exec.Command("clang", args...).CombinedOutput(); err != nil {
		tb.Fatalf("clang %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	return out
}

func compileBPF(tb testing.TB, src, target string, flags ...string) string {
	tb.Helper()
	return compileC(tb, src, append([]string{"-target", target, "-O2", "-c"}, flags...)...)
}

func openDWARFObject(tb testing.TB, path string) (*DWARF, *elf.File) {
	tb.Helper()
	f, err := elf.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })

	d, err := loadDWARF(f)
	if err != nil {
		tb.Fatal("loadDWARF:", err)
	}
	if d == nil {
		tb.Fatal("loadDWARF returned no DWARF for an object compiled with -g")
	}
	return d, f
}

// forEachBPFObject compiles src for both byte orders in every debug info
// flavour and runs fn on each.
func forEachBPFObject(t *testing.T, src string, fn func(t *testing.T, path string, d *DWARF, f *elf.File)) {
	requireClang(t)
	for _, target := range bpfTargets {
		for _, v := range dwarfVariants {
			t.Run(target+"/"+v.name, func(t *testing.T) {
				t.Parallel()
				path := compileBPF(t, src, target, v.flags...)
				d, f := openDWARFObject(t, path)
				fn(t, path, d, f)
			})
		}
	}
}

// dwarfType returns the only type of Go type T named name.
func dwarfType[T btf.Type](tb testing.TB, d *DWARF, name string) T {
	tb.Helper()
	var found []T
	for _, t := range d.TypesByName(name) {
		if t, ok := t.(T); ok {
			found = append(found, t)
		}
	}
	if len(found) != 1 {
		var zero T
		tb.Fatalf("want one %T named %q, got %d", zero, name, len(found))
	}
	return found[0]
}

func member(tb testing.TB, members []btf.Member, name string) btf.Member {
	tb.Helper()
	for _, m := range members {
		if m.Name == name {
			return m
		}
	}
	tb.Fatalf("no member %q", name)
	return btf.Member{}
}

type wantMember struct {
	name      string
	offset    btf.Bits
	bitfield  btf.Bits
	sizeBytes int
}

func checkMembers(t *testing.T, members []btf.Member, want []wantMember) {
	t.Helper()
	if len(members) != len(want) {
		t.Fatalf("got %d members, want %d", len(members), len(want))
	}
	for i, w := range want {
		m := members[i]
		size, err := btf.Sizeof(m.Type)
		if err != nil {
			t.Fatalf("member %d %q: %v", i, w.name, err)
		}
		if m.Name != w.name || m.Offset != w.offset || m.BitfieldSize != w.bitfield || size != w.sizeBytes {
			t.Errorf("member %d: got %q offset %d bitfield %d size %d, want %q offset %d bitfield %d size %d",
				i, m.Name, m.Offset, m.BitfieldSize, size, w.name, w.offset, w.bitfield, w.sizeBytes)
		}
	}
}

func TestDWARFLayouts(t *testing.T) {
	layouts := []struct {
		name    string
		union   bool
		size    uint32
		members []wantMember
	}{
		{name: "inner", size: 8, members: []wantMember{{"x", 0, 0, 4}, {"y", 32, 0, 2}}},
		{name: "nested", size: 28, members: []wantMember{{"tag", 0, 0, 1}, {"in", 32, 0, 8}, {"arr", 96, 0, 16}}},
		{name: "val", union: true, size: 16, members: []wantMember{{"i", 0, 0, 4}, {"ll", 0, 0, 8}, {"bytes", 0, 0, 12}}},
		{name: "anon", size: 24, members: []wantMember{{"kind", 0, 0, 4}, {"", 64, 0, 8}, {"", 128, 0, 4}}},
		{name: "bits", size: 8, members: []wantMember{
			{"a", 0, 3, 4}, {"b", 3, 5, 4}, {"c", 8, 7, 4}, {"d", 15, 40, 8}, {"e", 56, 0, 1},
		}},
		{name: "packed", size: 13, members: []wantMember{{"c", 0, 0, 1}, {"i", 8, 0, 4}, {"l", 40, 0, 8}}},
		{name: "aligned", size: 32, members: []wantMember{{"c", 0, 0, 1}, {"x", 128, 0, 4}}},
		{name: "holds_over", size: 32, members: []wantMember{{"c", 0, 0, 1}, {"o", 128, 0, 16}}},
		{name: "flex", size: 4, members: []wantMember{{"n", 0, 0, 4}, {"data", 32, 0, 0}}},
		{name: "multi", size: 144, members: []wantMember{{"m", 0, 0, 24}, {"grid", 192, 0, 120}}},
		{name: "node", size: 32, members: []wantMember{{"v", 0, 0, 4}, {"next", 64, 0, 8}, {"kids", 128, 0, 16}}},
		{name: "quals", size: 40, members: []wantMember{
			{"o", 0, 0, 8}, {"cb", 64, 0, 8}, {"cv", 128, 0, 4}, {"rp", 192, 0, 8}, {"pid", 256, 0, 4},
		}},
		{name: "local_only", size: 20, members: []wantMember{{"pid", 0, 0, 4}, {"comm", 32, 0, 16}}},
	}

	forEachBPFObject(t, dwarfTypesSrc, func(t *testing.T, _ string, d *DWARF, _ *elf.File) {
		for _, l := range layouts {
			t.Run(l.name, func(t *testing.T) {
				var (
					size    uint32
					members []btf.Member
				)
				if l.union {
					u := dwarfType[*btf.Union](t, d, l.name)
					size, members = u.Size, u.Members
				} else {
					s := dwarfType[*btf.Struct](t, d, l.name)
					size, members = s.Size, s.Members
				}
				if size != l.size {
					t.Errorf("size %d, want %d", size, l.size)
				}
				checkMembers(t, members, l.members)
			})
		}
	})
}

func TestDWARFBaseTypes(t *testing.T) {
	want := []struct {
		member   string
		size     uint32
		float    bool
		encoding btf.IntEncoding
	}{
		{"c", 1, false, btf.Char},
		{"sc", 1, false, btf.Char},
		{"uc", 1, false, btf.Unsigned},
		{"s", 2, false, btf.Signed},
		{"us", 2, false, btf.Unsigned},
		{"i", 4, false, btf.Signed},
		{"u", 4, false, btf.Unsigned},
		{"l", 8, false, btf.Signed},
		{"ul", 8, false, btf.Unsigned},
		{"ll", 8, false, btf.Signed},
		{"ull", 8, false, btf.Unsigned},
		{"b", 1, false, btf.Bool},
		{"f", 4, true, 0},
		{"d", 8, true, 0},
	}

	forEachBPFObject(t, dwarfTypesSrc, func(t *testing.T, _ string, d *DWARF, _ *elf.File) {
		base := dwarfType[*btf.Struct](t, d, "base")
		for _, w := range want {
			switch typ := member(t, base.Members, w.member).Type.(type) {
			case *btf.Float:
				if !w.float || typ.Size != w.size {
					t.Errorf("%s: got float of size %d, want size %d float %v", w.member, typ.Size, w.size, w.float)
				}
			case *btf.Int:
				if w.float || typ.Size != w.size || typ.Encoding != w.encoding {
					t.Errorf("%s: got %s int of size %d, want %s of size %d", w.member, typ.Encoding, typ.Size, w.encoding, w.size)
				}
			default:
				t.Errorf("%s: unexpected type %T", w.member, typ)
			}
		}

		ptr, ok := member(t, base.Members, "p").Type.(*btf.Pointer)
		if !ok {
			t.Fatalf("p: got %T, want *btf.Pointer", member(t, base.Members, "p").Type)
		}
		if _, ok := ptr.Target.(*btf.Void); !ok {
			t.Errorf("p: target %T, want *btf.Void", ptr.Target)
		}

		if i := dwarfType[*btf.Int](t, d, "int"); i.Size != 4 || i.Encoding != btf.Signed {
			t.Errorf("int: got %s size %d", i.Encoding, i.Size)
		}
	})
}

func TestDWARFTypeGraph(t *testing.T) {
	forEachBPFObject(t, dwarfTypesSrc, func(t *testing.T, _ string, d *DWARF, _ *elf.File) {
		t.Run("nested members share the converted type", func(t *testing.T) {
			inner := dwarfType[*btf.Struct](t, d, "inner")
			nested := dwarfType[*btf.Struct](t, d, "nested")
			if got := member(t, nested.Members, "in").Type; got != inner {
				t.Errorf("in: got %v, want the struct inner of TypesByName", got)
			}
			arr, ok := member(t, nested.Members, "arr").Type.(*btf.Array)
			if !ok || arr.Nelems != 2 || arr.Type != inner {
				t.Errorf("arr: got %v, want [2]struct inner", member(t, nested.Members, "arr").Type)
			}
		})

		t.Run("self-referential struct", func(t *testing.T) {
			node := dwarfType[*btf.Struct](t, d, "node")
			next, ok := member(t, node.Members, "next").Type.(*btf.Pointer)
			if !ok || next.Target != node {
				t.Errorf("next: got %v, want pointer to node itself", member(t, node.Members, "next").Type)
			}
			kids, ok := member(t, node.Members, "kids").Type.(*btf.Array)
			if !ok || kids.Nelems != 2 || kids.Type != next {
				t.Errorf("kids: got %v, want [2] of the same pointer type", member(t, node.Members, "kids").Type)
			}
		})

		t.Run("multi-dimensional arrays nest", func(t *testing.T) {
			multi := dwarfType[*btf.Struct](t, d, "multi")
			var dims []uint32
			typ := member(t, multi.Members, "grid").Type
			for {
				arr, ok := typ.(*btf.Array)
				if !ok {
					break
				}
				if _, ok := arr.Index.(*btf.Int); !ok {
					t.Errorf("index type %T, want *btf.Int", arr.Index)
				}
				dims, typ = append(dims, arr.Nelems), arr.Type
			}
			if !slices.Equal(dims, []uint32{4, 5, 6}) {
				t.Errorf("grid: dimensions %v, want [4 5 6]", dims)
			}
			if i, ok := typ.(*btf.Int); !ok || i.Name != "char" {
				t.Errorf("grid: element %v, want char", typ)
			}
		})

		t.Run("flexible array member", func(t *testing.T) {
			flex := dwarfType[*btf.Struct](t, d, "flex")
			arr, ok := member(t, flex.Members, "data").Type.(*btf.Array)
			if !ok || arr.Nelems != 0 {
				t.Errorf("data: got %v, want array of 0 elements", member(t, flex.Members, "data").Type)
			}
		})

		t.Run("typedef chain", func(t *testing.T) {
			td := dwarfType[*btf.Typedef](t, d, "my_pid")
			var names []string
			var typ btf.Type = td
			for {
				next, ok := typ.(*btf.Typedef)
				if !ok {
					break
				}
				names, typ = append(names, next.Name), next.Type
			}
			if !slices.Equal(names, []string{"my_pid", "pid32", "u32"}) {
				t.Errorf("chain %v, want [my_pid pid32 u32]", names)
			}
			if i, ok := typ.(*btf.Int); !ok || i.Name != "unsigned int" || i.Size != 4 || i.Encoding != btf.Unsigned {
				t.Errorf("chain ends in %v, want unsigned int", typ)
			}
		})

		t.Run("qualifiers, function pointers and forward declarations", func(t *testing.T) {
			quals := dwarfType[*btf.Struct](t, d, "quals")

			o := member(t, quals.Members, "o").Type.(*btf.Pointer)
			if fwd, ok := o.Target.(*btf.Fwd); !ok || fwd.Name != "opaque" || fwd.Kind != btf.FwdStruct {
				t.Errorf("o: target %v, want fwd struct opaque", o.Target)
			}

			cb := member(t, quals.Members, "cb").Type.(*btf.Pointer)
			proto, ok := cb.Target.(*btf.FuncProto)
			if !ok || len(proto.Params) != 2 {
				t.Fatalf("cb: target %v, want func proto with 2 params", cb.Target)
			}
			if _, ok := proto.Return.(*btf.Void); !ok {
				t.Errorf("cb: returns %v, want void", proto.Return)
			}
			if p, ok := proto.Params[1].Type.(*btf.Pointer); !ok || p.Target != dwarfType[*btf.Struct](t, d, "node") {
				t.Errorf("cb: second parameter %v, want struct node *", proto.Params[1].Type)
			}

			var kinds []string
			for typ := member(t, quals.Members, "cv").Type; ; {
				switch q := typ.(type) {
				case *btf.Const:
					kinds, typ = append(kinds, "const"), q.Type
					continue
				case *btf.Volatile:
					kinds, typ = append(kinds, "volatile"), q.Type
					continue
				}
				break
			}
			slices.Sort(kinds)
			if !slices.Equal(kinds, []string{"const", "volatile"}) {
				t.Errorf("cv: qualifiers %v, want const and volatile", kinds)
			}

			if r, ok := member(t, quals.Members, "rp").Type.(*btf.Restrict); !ok {
				t.Errorf("rp: got %T, want *btf.Restrict", member(t, quals.Members, "rp").Type)
			} else if _, ok := r.Type.(*btf.Pointer); !ok {
				t.Errorf("rp: restrict of %T, want pointer", r.Type)
			}
		})

		t.Run("enums", func(t *testing.T) {
			enums := []struct {
				name   string
				size   uint32
				signed bool
				values []btf.EnumValue
			}{
				{"e1", 1, false, []btf.EnumValue{{Name: "E1_A", Value: 0}, {Name: "E1_B", Value: 200}}},
				{"e4", 4, true, []btf.EnumValue{{Name: "E4_NEG", Value: 0xffffffffffffffff}, {Name: "E4_POS", Value: 5}}},
				{"e8", 8, false, []btf.EnumValue{{Name: "E8_A", Value: 1}, {Name: "E8_BIG", Value: 0x100000000}}},
			}
			for _, w := range enums {
				e := dwarfType[*btf.Enum](t, d, w.name)
				if e.Size != w.size || e.Signed != w.signed || !slices.Equal(e.Values, w.values) {
					t.Errorf("%s: got size %d signed %v values %v, want size %d signed %v values %v",
						w.name, e.Size, e.Signed, e.Values, w.size, w.signed, w.values)
				}
			}
		})
	})
}

func TestDWARFTypesList(t *testing.T) {
	forEachBPFObject(t, dwarfTypesSrc, func(t *testing.T, _ string, d *DWARF, _ *elf.File) {
		types := d.Types()
		seen := make(map[string]bool)
		for _, typ := range types {
			if typ.TypeName() == "" {
				t.Errorf("anonymous type %v in Types", typ)
			}
			switch typ.(type) {
			case *btf.Struct, *btf.Union, *btf.Enum, *btf.Typedef:
			default:
				t.Errorf("unexpected kind %T in Types", typ)
			}
			key := fmt.Sprintf("%T %s", typ, typ.TypeName())
			if seen[key] {
				t.Errorf("%s listed twice", key)
			}
			seen[key] = true
		}
		if !slices.IsSortedFunc(types, func(a, b btf.Type) int { return strings.Compare(a.TypeName(), b.TypeName()) }) {
			t.Error("Types is not sorted by name")
		}

		for _, want := range []string{"*btf.Struct node", "*btf.Union val", "*btf.Enum e8", "*btf.Typedef point_t", "*btf.Typedef my_pid", "*btf.Struct local_only"} {
			if !seen[want] {
				t.Errorf("Types lacks %s", want)
			}
		}
		if seen["*btf.Fwd opaque"] || seen["*btf.Struct opaque"] {
			t.Error("Types lists the declaration of struct opaque")
		}

		point := dwarfType[*btf.Typedef](t, d, "point_t")
		if s, ok := point.Type.(*btf.Struct); !ok || s.Name != "" || s.Size != 8 {
			t.Errorf("point_t: got %v, want anonymous struct of 8 bytes", point.Type)
		}
	})
}

func TestDWARFAlignmentAndDecl(t *testing.T) {
	forEachBPFObject(t, dwarfTypesSrc, func(t *testing.T, _ string, d *DWARF, _ *elf.File) {
		aligned := dwarfType[*btf.Struct](t, d, "aligned")
		if a, ok := d.MemberAlignment(aligned, 1); !ok || a != 16 {
			t.Errorf("aligned.x: MemberAlignment %d %v, want 16", a, ok)
		}
		if a, ok := d.MemberAlignment(aligned, 0); ok {
			t.Errorf("aligned.c: MemberAlignment %d, want none", a)
		}
		if a, ok := d.Alignment(aligned); ok {
			t.Errorf("aligned: Alignment %d, want none", a)
		}

		over := dwarfType[*btf.Struct](t, d, "over")
		if a, ok := d.Alignment(over); !ok || a != 16 {
			t.Errorf("over: Alignment %d %v, want 16", a, ok)
		}
		holds := dwarfType[*btf.Struct](t, d, "holds_over")
		if a, ok := d.Alignment(member(t, holds.Members, "o").Type); !ok || a != 16 {
			t.Errorf("holds_over.o: Alignment %d %v, want 16", a, ok)
		}
		// clang records the alignment of typedefs from DWARF 5 on.
		if a, ok := d.Alignment(dwarfType[*btf.Typedef](t, d, "aligned_int")); dwarfVersion(d) >= 5 && (!ok || a != 8) {
			t.Errorf("aligned_int: Alignment %d %v, want 8", a, ok)
		}
		if a, ok := d.Alignment(dwarfType[*btf.Struct](t, d, "inner")); ok {
			t.Errorf("inner: Alignment %d, want none", a)
		}

		for _, name := range []string{"node", "local_only", "point_t", "e4", "val"} {
			typ := d.TypesByName(name)[0]
			file, line, ok := d.Decl(typ)
			if !ok {
				t.Errorf("%s: no declaration", name)
				continue
			}
			if filepath.Base(file) != "types.c" || line != declLine(t, name) {
				t.Errorf("%s: declared at %s:%d, want types.c:%d", name, file, line, declLine(t, name))
			}
		}
	})
}

func dwarfVersion(d *DWARF) int {
	if len(d.all) == 0 {
		return 0
	}
	return d.all[0].unit.version
}

// declLine returns the line of dwarfTypesSrc that declares name.
func declLine(tb testing.TB, name string) int {
	tb.Helper()
	for i, line := range strings.Split(dwarfTypesSrc, "\n") {
		for _, prefix := range []string{"struct " + name + " {", "union " + name + " {", "enum " + name + " {", "typedef struct {"} {
			if strings.HasPrefix(line, prefix) && (prefix != "typedef struct {" || strings.Contains(line, " "+name+";")) {
				return i + 1
			}
		}
	}
	tb.Fatalf("%s is not declared in the source", name)
	return 0
}

func TestDWARFBitfieldForms(t *testing.T) {
	// The default flavour uses the DWARF 2 form, which counts bits from
	// the most significant end and so differs between byte orders; -glldb
	// uses DW_AT_data_bit_offset. TestDWARFLayouts checks that both give
	// the same offsets.
	requireClang(t)
	for _, target := range bpfTargets {
		for _, tc := range []struct {
			flags []string
			attr  dwarf.Attr
		}{
			{[]string{"-g"}, dwarf.AttrBitOffset},
			{[]string{"-g", "-glldb"}, dwarf.AttrDataBitOffset},
		} {
			d, _ := openDWARFObject(t, compileBPF(t, dwarfTypesSrc, target, tc.flags...))
			found := false
			for _, e := range d.all {
				if e.Tag == dwarf.TagMember && e.name() == "d" && e.Val(dwarf.AttrBitSize) != nil {
					found = e.Val(tc.attr) != nil
				}
			}
			if !found {
				t.Errorf("%s %v: bitfield d has no %s", target, tc.flags, tc.attr)
			}
		}
	}
}

// TestDWARFMatchesBTF compares every struct, union and enum clang put into
// .BTF with its DWARF conversion.
func TestDWARFMatchesBTF(t *testing.T) {
	forEachBPFObject(t, dwarfTypesSrc, func(t *testing.T, path string, d *DWARF, _ *elf.File) {
		spec, err := btf.LoadSpec(path)
		if err != nil {
			t.Fatal(err)
		}

		compared := 0
		for typ, err := range spec.All() {
			if err != nil {
				t.Fatal(err)
			}
			if typ.TypeName() == "" {
				continue
			}
			switch want := typ.(type) {
			case *btf.Struct:
				got := dwarfType[*btf.Struct](t, d, want.Name)
				compareComposite(t, want.Name, got.Size, want.Size, got.Members, want.Members)
			case *btf.Union:
				got := dwarfType[*btf.Union](t, d, want.Name)
				compareComposite(t, want.Name, got.Size, want.Size, got.Members, want.Members)
			case *btf.Enum:
				// The .BTF of clang 14 predates signed and 64-bit
				// enums: it marks all enums unsigned and keeps 32
				// bits of each value.
				got := dwarfType[*btf.Enum](t, d, want.Name)
				truncated := func(v btf.EnumValue) btf.EnumValue {
					return btf.EnumValue{Name: v.Name, Value: uint64(uint32(v.Value))}
				}
				if got.Size != want.Size || !slices.EqualFunc(got.Values, want.Values, func(g, w btf.EnumValue) bool {
					return truncated(g) == truncated(w)
				}) {
					t.Errorf("enum %s: DWARF size %d values %v, BTF size %d values %v", want.Name, got.Size, got.Values, want.Size, want.Values)
				}
			default:
				continue
			}
			compared++
		}
		if compared < 15 {
			t.Errorf("compared %d types with .BTF, want at least 15", compared)
		}

		// Used by a local only: DWARF has it, .BTF doesn't.
		if _, err := spec.AnyTypesByName("local_only"); !errors.Is(err, btf.ErrNotFound) {
			t.Errorf("local_only in .BTF: %v", err)
		}
		dwarfType[*btf.Struct](t, d, "local_only")
	})
}

func compareComposite(t *testing.T, name string, gotSize, wantSize uint32, got, want []btf.Member) {
	t.Helper()
	if gotSize != wantSize || len(got) != len(want) {
		t.Errorf("%s: DWARF size %d with %d members, BTF size %d with %d members", name, gotSize, len(got), wantSize, len(want))
		return
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name || g.Offset != w.Offset || g.BitfieldSize != w.BitfieldSize {
			t.Errorf("%s member %d: DWARF %q at %d/%d, BTF %q at %d/%d",
				name, i, g.Name, g.Offset, g.BitfieldSize, w.Name, w.Offset, w.BitfieldSize)
		}
	}
}

// TestDWARFMatchesPahole compares the size of every struct with what
// pahole reads from the same DWARF.
func TestDWARFMatchesPahole(t *testing.T) {
	if _, err := exec.LookPath("pahole"); err != nil {
		t.Skip("pahole not on PATH")
	}

	for name, src := range map[string]string{"types": dwarfTypesSrc, "prog": dwarfProgSrc} {
		t.Run(name, func(t *testing.T) {
			forEachBPFObject(t, src, func(t *testing.T, path string, d *DWARF, _ *elf.File) {
				sizes := paholeSizes(t, path)
				compared := 0
				for _, typ := range d.Types() {
					s, ok := typ.(*btf.Struct)
					if !ok {
						continue
					}
					want, ok := sizes[s.Name]
					if !ok {
						t.Errorf("pahole does not know struct %s", s.Name)
						continue
					}
					if got, err := btf.Sizeof(s); err != nil || got != want {
						t.Errorf("struct %s: Sizeof %d (%v), pahole %d", s.Name, got, err, want)
					}
					compared++
				}
				if compared < 3 {
					t.Errorf("compared %d structs with pahole, want at least 3", compared)
				}
			})
		})
	}
}

func paholeSizes(tb testing.TB, path string) map[string]int {
	tb.Helper()
	out, err := exec.Command("pahole", "-F", "dwarf", "--sizes", path).Output()
	if err != nil {
		tb.Fatalf("pahole: %v", err)
	}

	sizes := make(map[string]int)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		size, err := strconv.Atoi(fields[1])
		if err != nil {
			tb.Fatalf("pahole line %q: %v", sc.Text(), err)
		}
		sizes[fields[0]] = size
	}
	return sizes
}

func TestDWARFVars(t *testing.T) {
	forEachBPFObject(t, dwarfProgSrc, func(t *testing.T, _ string, d *DWARF, _ *elf.File) {
		event := dwarfType[*btf.Struct](t, d, "event")
		inner := dwarfType[*btf.Struct](t, d, "inner")
		long := dwarfType[*btf.Int](t, d, "long")

		for _, tc := range []struct {
			fn, name string
			want     []btf.Type
		}{
			{"handle", "ev", []btf.Type{event}},
			{"handle", "o", []btf.Type{dwarfType[*btf.Struct](t, d, "other")}},
			// Declared by the inlined fill: found through the abstract origin.
			{"handle", "tmp", []btf.Type{inner}},
			{"fill", "tmp", []btf.Type{inner}},
			{"sub", "z", []btf.Type{inner}},
			{"looped", "q", []btf.Type{long}},
			{"handle", "missing", nil},
			{"missing", "ev", nil},
		} {
			if got := d.Vars(tc.fn, tc.name); !slices.Equal(got, tc.want) {
				t.Errorf("Vars(%q, %q) = %v, want %v", tc.fn, tc.name, got, tc.want)
			}
		}

		ctx := d.Vars("handle", "ctx")
		if len(ctx) != 1 {
			t.Fatalf("Vars(handle, ctx): got %v", ctx)
		}
		if p, ok := ctx[0].(*btf.Pointer); !ok {
			t.Errorf("ctx: got %T, want pointer", ctx[0])
		} else if _, ok := p.Target.(*btf.Void); !ok {
			t.Errorf("ctx: points to %T, want void", p.Target)
		}

		if got, want := d.Functions(), []string{"aligned_frame", "handle", "looped", "sub"}; !slices.Equal(got, want) {
			t.Errorf("Functions() = %v, want %v", got, want)
		}
	})
}

// helperArg is a stack address a program passes to a helper.
type helperArg struct {
	off  int64 // r10+off
	size int64 // the size argument, if it is a constant
}

// stackArgs decodes function fn of f and returns the r10-relative value of
// register reg at every call to helper, together with the constant in
// sizeReg. It follows copies between registers, which is how clang hands
// out the address of a stack variable: rX = r10; rX += off.
func stackArgs(tb testing.TB, f *elf.File, fn string, helper asm.BuiltinFunc, reg, sizeReg asm.Register) []helperArg {
	tb.Helper()
	syms, err := f.Symbols()
	if err != nil {
		tb.Fatal(err)
	}
	i := slices.IndexFunc(syms, func(s elf.Symbol) bool { return s.Name == fn && elf.ST_TYPE(s.Info) == elf.STT_FUNC })
	if i < 0 {
		tb.Fatalf("no symbol %s", fn)
	}
	sym := syms[i]
	code, err := f.Sections[sym.Section].Data()
	if err != nil {
		tb.Fatal(err)
	}
	insns, err := asm.AppendInstructions(nil, bytes.NewReader(code[sym.Value:sym.Value+sym.Size]), f.ByteOrder, "linux")
	if err != nil {
		tb.Fatal(err)
	}

	type value struct {
		frame bool
		n     int64
		known bool
	}
	var (
		regs = map[asm.Register]value{asm.R10: {frame: true, known: true}}
		args []helperArg
	)
	for _, ins := range insns {
		op := ins.OpCode
		switch {
		case ins.IsBuiltinCall() && asm.BuiltinFunc(ins.Constant) == helper:
			if v := regs[reg]; v.known && v.frame {
				size := int64(-1)
				if s := regs[sizeReg]; s.known && !s.frame {
					size = s.n
				}
				args = append(args, helperArg{v.n, size})
			}
			fallthrough
		case op.Class() == asm.JumpClass && op.JumpOp() == asm.Call:
			for r := asm.R0; r <= asm.R5; r++ {
				delete(regs, r)
			}
		case op.Class() == asm.ALU64Class && op.ALUOp() == asm.Mov && op.Source() == asm.RegSource:
			regs[ins.Dst] = regs[ins.Src]
		case op.Class() == asm.ALU64Class && op.ALUOp() == asm.Mov && op.Source() == asm.ImmSource:
			regs[ins.Dst] = value{n: ins.Constant, known: true}
		case op.Class() == asm.ALU64Class && op.ALUOp() == asm.Add && op.Source() == asm.ImmSource:
			if v := regs[ins.Dst]; v.known {
				regs[ins.Dst] = value{frame: v.frame, n: v.n + ins.Constant, known: true}
			}
		case op.Class().IsALU() || op.Class() == asm.LdXClass || op.Class() == asm.LdClass:
			delete(regs, ins.Dst)
		}
	}
	return args
}

func TestDWARFStackVar(t *testing.T) {
	forEachBPFObject(t, dwarfProgSrc, func(t *testing.T, _ string, d *DWARF, f *elf.File) {
		event := dwarfType[*btf.Struct](t, d, "event")
		other := dwarfType[*btf.Struct](t, d, "other")
		inner := dwarfType[*btf.Struct](t, d, "inner")
		long := dwarfType[*btf.Int](t, d, "long")

		type want struct {
			name string
			typ  btf.Type
		}
		for _, tc := range []struct {
			fn     string
			helper asm.BuiltinFunc
			reg    asm.Register
			sizes  map[int64]want
			calls  int
		}{
			// sizeof(struct other) is 24, sizeof(struct event) 32.
			{"handle", asm.FnRingbufOutput, asm.R2, map[int64]want{24: {"o", other}, 32: {"ev", event}}, 2},
			{"sub", asm.FnProbeReadKernel, asm.R1, map[int64]want{4: {"z", inner}}, 1},
			// q has a location list: DW_OP_breg10 while on the stack.
			{"looped", asm.FnProbeReadKernel, asm.R1, map[int64]want{8: {"q", long}}, 3},
			{"aligned_frame", asm.FnProbeReadKernel, asm.R1, map[int64]want{16: {"x", dwarfType[*btf.Struct](t, d, "al16")}, 8: {"y", long}}, 2},
		} {
			args := stackArgs(t, f, tc.fn, tc.helper, tc.reg, tc.reg+1)
			if len(args) != tc.calls {
				t.Fatalf("%s: found %d calls passing a stack address, want %d", tc.fn, len(args), tc.calls)
			}
			for _, arg := range args {
				w, ok := tc.sizes[arg.size]
				if !ok {
					t.Fatalf("%s: unexpected size %d passed at r10%+d", tc.fn, arg.size, arg.off)
				}
				name, typ, within, ok := d.StackVar(tc.fn, arg.off)
				if !ok || name != w.name || typ != w.typ || within != 0 {
					t.Errorf("%s: StackVar(r10%+d) = %q %v %d %v, want %q %v 0",
						tc.fn, arg.off, name, typ, within, ok, w.name, w.typ)
				}

				// An address inside the variable.
				if arg.size > 4 {
					name, _, within, ok = d.StackVar(tc.fn, arg.off+4)
					if !ok || name != w.name || within != 4 {
						t.Errorf("%s: StackVar(r10%+d) = %q %d %v, want %q 4", tc.fn, arg.off+4, name, within, ok, w.name)
					}
				}
			}
		}

		if name, _, _, ok := d.StackVar("handle", -1000); ok {
			t.Errorf("StackVar(handle, -1000) = %q, want nothing", name)
		}
		if name, _, _, ok := d.StackVar("missing", -8); ok {
			t.Errorf("StackVar(missing, -8) = %q, want nothing", name)
		}
	})
}

// TestDWARFRelocations checks the premise of reading BPF debug sections
// raw: the relocations of an unlinked object are against section symbols
// of value 0, except addresses of globals in .debug_addr, which
// relocateBPF applies.
func TestDWARFRelocations(t *testing.T) {
	requireClang(t)
	for _, target := range bpfTargets {
		t.Run(target, func(t *testing.T) {
			f, err := elf.Open(compileBPF(t, dwarfProgSrc, target, "-g"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			syms, err := f.Symbols()
			if err != nil {
				t.Fatal(err)
			}

			sectionSyms, globals := 0, 0
			for _, rs := range f.Sections {
				if rs.Type != elf.SHT_REL || !strings.HasPrefix(f.Sections[rs.Info].Name, ".debug_") {
					continue
				}
				target := f.Sections[rs.Info]
				raw, err := target.Data()
				if err != nil {
					t.Fatal(err)
				}
				relocated, err := debugSection(f, target.Name)
				if err != nil {
					t.Fatal(err)
				}
				rels, err := rs.Data()
				if err != nil {
					t.Fatal(err)
				}

				for ; len(rels) >= 16; rels = rels[16:] {
					off := f.ByteOrder.Uint64(rels)
					sym := syms[elf.R_SYM64(f.ByteOrder.Uint64(rels[8:]))-1]
					if elf.ST_TYPE(sym.Info) == elf.STT_SECTION {
						if sym.Value != 0 {
							t.Errorf("%s+%#x: section symbol %s has value %#x", target.Name, off, sym.Name, sym.Value)
						}
						sectionSyms++
						continue
					}

					if target.Name != ".debug_addr" {
						t.Errorf("%s+%#x: relocation against %s", target.Name, off, sym.Name)
						continue
					}
					globals++
					got := f.ByteOrder.Uint64(relocated[off:])
					if want := f.ByteOrder.Uint64(raw[off:]) + sym.Value; got != want {
						t.Errorf(".debug_addr+%#x: address of %s is %#x, want %#x", off, sym.Name, got, want)
					}
				}
			}
			if sectionSyms < 10 || globals != 2 {
				t.Errorf("%d relocations against section symbols, %d against rb and rb2; want at least 10 and 2", sectionSyms, globals)
			}
		})
	}
}

func TestDWARFOtherMachines(t *testing.T) {
	requireClang(t)
	src := dwarfTypesSrc + "\nint main(void) { return use_local(1); }\n"

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"object", []string{"-g", "-O2", "-c"}},
		{"executable", []string{"-g", "-O2"}},
		{"compressed object", []string{"-g", "-gz", "-c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := compileC(t, src, tc.args...)
			d, f := openDWARFObject(t, path)
			if f.Machine == elf.EM_BPF {
				t.Fatal("compiled for BPF")
			}

			node := dwarfType[*btf.Struct](t, d, "node")
			if node.Size != 32 {
				t.Errorf("node: size %d, want 32", node.Size)
			}
			bits := dwarfType[*btf.Struct](t, d, "bits")
			checkMembers(t, bits.Members, []wantMember{
				{"a", 0, 3, 4}, {"b", 3, 5, 4}, {"c", 8, 7, 4}, {"d", 15, 40, 8}, {"e", 56, 0, 1},
			})
			if file, line, ok := d.Decl(node); !ok || filepath.Base(file) != "types.c" || line != declLine(t, "node") {
				t.Errorf("node: declared at %s:%d %v, want types.c:%d", file, line, ok, declLine(t, "node"))
			}
			if !slices.Contains(d.Functions(), "use_local") {
				t.Errorf("Functions() = %v, want use_local among them", d.Functions())
			}
			if got := d.Vars("use_local", "lo"); len(got) != 1 || got[0] != dwarfType[*btf.Struct](t, d, "local_only") {
				t.Errorf("Vars(use_local, lo) = %v", got)
			}
			// r10 only means something in BPF.
			if _, _, _, ok := d.StackVar("use_local", -8); ok {
				t.Error("StackVar answered for a non-BPF file")
			}
		})
	}
}

func TestDWARFAbsent(t *testing.T) {
	requireClang(t)

	t.Run("no -g", func(t *testing.T) {
		f, err := elf.Open(compileBPF(t, dwarfProgSrc, "bpfel"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if d, err := loadDWARF(f); d != nil || err != nil {
			t.Errorf("loadDWARF = %v, %v; want nil, nil", d, err)
		}
	})

	t.Run("bpftool gen object", func(t *testing.T) {
		if _, err := exec.LookPath("bpftool"); err != nil {
			t.Skip("bpftool not on PATH")
		}
		obj := compileBPF(t, dwarfProgSrc, "bpfel", "-g")
		linked := filepath.Join(t.TempDir(), "linked.o")
		if out, err := exec.Command("bpftool", "gen", "object", linked, obj).CombinedOutput(); err != nil {
			t.Fatalf("bpftool: %v\n%s", err, out)
		}

		f, err := elf.Open(linked)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		// The BPF static linker drops DWARF and keeps .BTF.
		if f.Section(".BTF") == nil {
			t.Fatal("linked object has no .BTF")
		}
		if d, err := loadDWARF(f); d != nil || err != nil {
			t.Errorf("loadDWARF = %v, %v; want nil, nil", d, err)
		}
	})
}

// patchSection returns a copy of the ELF file raw with section name
// modified by fn, which may change the section's bytes and size.
func patchSection(tb testing.TB, raw []byte, name string, fn func(data []byte, size *uint64)) []byte {
	tb.Helper()
	f, err := elf.NewFile(bytes.NewReader(raw))
	if err != nil {
		tb.Fatal(err)
	}
	idx := slices.IndexFunc(f.Sections, func(s *elf.Section) bool { return s.Name == name })
	if idx < 0 {
		tb.Fatalf("no section %s", name)
	}
	s := f.Sections[idx]

	out := slices.Clone(raw)
	size := s.FileSize
	fn(out[s.Offset:s.Offset+s.FileSize], &size)

	// e_shoff is at 0x28 and sh_size at 0x20 of each ELF64 section header.
	shdr := f.ByteOrder.Uint64(out[0x28:]) + uint64(idx)*64
	f.ByteOrder.PutUint64(out[shdr+0x20:], size)
	return out
}

func TestLoadDWARFBadInput(t *testing.T) {
	requireClang(t)
	for _, target := range bpfTargets {
		raw, err := os.ReadFile(compileBPF(t, dwarfProgSrc, target, "-g"))
		if err != nil {
			t.Fatal(err)
		}

		for _, tc := range []struct {
			name    string
			section string
			patch   func(data []byte, size *uint64)
		}{
			{"garbage info", ".debug_info", func(data []byte, _ *uint64) {
				for i := 4; i < len(data); i++ {
					data[i] = byte(i*7 + 0x81)
				}
			}},
			{"unsupported version", ".debug_info", func(data []byte, _ *uint64) {
				data[4], data[5] = 0x7, 0x7
			}},
			{"truncated info", ".debug_info", func(_ []byte, size *uint64) { *size = 20 }},
			{"unterminated LEB128", ".debug_info", func(data []byte, _ *uint64) {
				// Everything after the DWARF 5 unit header
				// continues an abbreviation code.
				for i := 12; i < len(data); i++ {
					data[i] = 0x80
				}
			}},
			{"truncated abbrev", ".debug_abbrev", func(_ []byte, size *uint64) { *size = 3 }},
			{"garbage abbrev", ".debug_abbrev", func(data []byte, _ *uint64) {
				for i := range data {
					data[i] = 0xff
				}
			}},
			{"truncated str_offsets", ".debug_str_offsets", func(_ []byte, size *uint64) { *size = 9 }},
			{"truncated relocations", ".rel.debug_info", func(data []byte, _ *uint64) {
				// Point the first relocation past the end of .debug_info.
				for i := 0; i < 8; i++ {
					data[i] = 0x7f
				}
			}},
		} {
			t.Run(target+"/"+tc.name, func(t *testing.T) {
				f, err := elf.NewFile(bytes.NewReader(patchSection(t, raw, tc.section, tc.patch)))
				if err != nil {
					t.Fatal(err)
				}
				d, err := loadDWARF(f)
				if err == nil {
					t.Fatalf("loadDWARF succeeded with %d types", len(d.Types()))
				}
				if !strings.HasPrefix(err.Error(), "dwarf: ") {
					t.Errorf("error %q lacks the dwarf: prefix", err)
				}
			})
		}
	}
}

func FuzzLoadDWARF(f *testing.F) {
	if _, err := exec.LookPath("clang"); err == nil {
		for _, target := range bpfTargets {
			for _, flags := range [][]string{{"-g"}, {"-gdwarf-4"}} {
				raw, err := os.ReadFile(compileBPF(f, dwarfProgSrc, target, flags...))
				if err != nil {
					f.Fatal(err)
				}
				f.Add(raw)
			}
		}
	}
	f.Add([]byte("\x7fELF\x02\x01\x01"))

	f.Fuzz(func(t *testing.T, raw []byte) {
		ef, err := elf.NewFile(bytes.NewReader(raw))
		if err != nil {
			return
		}
		d, err := loadDWARF(ef)
		if err != nil || d == nil {
			return
		}
		for _, typ := range d.Types() {
			_, _ = btf.Sizeof(typ)
			d.Decl(typ)
			d.Alignment(typ)
		}
		for _, fn := range d.Functions() {
			d.Vars(fn, "ev")
			d.StackVar(fn, -8)
		}
	})
}

func TestDWARFStackPieces(t *testing.T) {
	for _, tc := range []struct {
		name  string
		expr  []byte
		fbreg bool
		want  []locPiece
	}{
		{"fbreg", []byte{opFbreg, 0x20}, true, []locPiece{{off: 32, size: -1}}},
		{"fbreg without r10 frame base", []byte{opFbreg, 0x20}, false, nil},
		{"breg10", []byte{opBreg10, 0x08}, false, []locPiece{{off: 8, size: -1}}},
		{"negative", []byte{opFbreg, 0x70}, true, []locPiece{{off: -16, size: -1}}},
		{"address as value", []byte{opFbreg, 0x18, 0x9f /* DW_OP_stack_value */}, true, nil},
		{"register", []byte{opReg0 + 1}, true, nil},
		{"pieces", []byte{opReg0 + 6, opPiece, 8, opFbreg, 0x10, opPiece, 8}, true, []locPiece{{off: 16, within: 8, size: 8}}},
		{"truncated", []byte{opFbreg}, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := stackPieces(tc.expr, tc.fbreg); !slices.Equal(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestDWARFFrameBase(t *testing.T) {
	sub := &dwEntry{Entry: &dwarf.Entry{Field: []dwarf.Field{{Attr: dwarf.AttrName, Val: "f", Class: dwarf.ClassString}}}}
	for _, tc := range []struct {
		name  string
		depth int64 // how deep the code reaches
		slots []stackSlot
		want  int64
	}{
		{"rounded to 8", 0, []stackSlot{{off: 0, size: 4}}, -8},
		{"variables reach the top", 0, []stackSlot{{off: 24, size: 32}, {off: 0, size: 24}}, -56},
		{"spill slot above the variables", 24, []stackSlot{{off: 0, size: 8}}, -24},
		{"over-aligned variable", 24, []stackSlot{{off: 0, size: 8, align: 16}}, -32},
		{"operands already relative to r10", 64, []stackSlot{{off: -16, size: 8}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &DWARF{frames: map[string][]codeFrame{"f": {{depth: tc.depth}}}}
			if got := d.frameBase(sub, tc.slots); got != tc.want {
				t.Errorf("frameBase = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestDWARFFrameDepth(t *testing.T) {
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R10),
		asm.Add.Imm(asm.R6, -40),
		asm.StoreImm(asm.R6, 8, 0, asm.Word), // r10-32
		asm.LoadMem(asm.R0, asm.R10, -12, asm.Word),
		asm.Return(),
	}
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		var buf bytes.Buffer
		if err := insns.Marshal(&buf, bo); err != nil {
			t.Fatal(err)
		}
		if got := frameDepth(buf.Bytes(), bo); got != 32 {
			t.Errorf("%s: depth %d, want 32", bo, got)
		}
	}
}

func TestDWARFLineHeaderSane(t *testing.T) {
	// A DWARF 5 line table header with one directory "/" and one file
	// "a.c", both DW_LNCT_path in DW_FORM_string, and no line program.
	header := func(dirs []byte) []byte {
		body := []byte{1, 1, 1, 0xfb, 14, 13}    // minimum_instruction_length to opcode_base
		body = append(body, make([]byte, 12)...) // standard_opcode_lengths
		body = append(body, 1, 1, formString)    // directory_entry_format
		body = append(body, dirs...)             // directories_count, directories
		body = append(body, 1, 1, formString, 1) // file_name_entry_format, file_names_count
		body = append(body, 'a', '.', 'c', 0)    // file_names
		hdr := binary.LittleEndian.AppendUint32([]byte{8, 0}, uint32(len(body)))
		unit := binary.LittleEndian.AppendUint16(nil, 5)
		unit = append(append(unit, hdr...), body...)
		return append(binary.LittleEndian.AppendUint32(nil, uint32(len(unit))), unit...)
	}

	for _, tc := range []struct {
		name string
		line []byte
		off  int64
		want bool
	}{
		{"one directory", header([]byte{1, '/', 0}), 0, true},
		// debug/dwarf would allocate 2^40 directories.
		{"huge directory count", header([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x20, '/', 0}), 0, false},
		{"offset past the end", header([]byte{1, '/', 0}), 1 << 20, false},
		{"truncated", header([]byte{1, '/', 0})[:20], 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := lineHeaderSane(tc.line, tc.off, binary.LittleEndian); got != tc.want {
				t.Errorf("lineHeaderSane = %v, want %v", got, tc.want)
			}
		})
	}
}
