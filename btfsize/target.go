package btfsize

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/cilium/ebpf/btf"
)

// ErrNoKernelBTF is returned when the running kernel exposes no BTF.
var ErrNoKernelBTF = errors.New("the kernel exposes no BTF: it was built without CONFIG_DEBUG_INFO_BTF")

// TargetKernel is the BTF of the kernel the objects will run on.
type TargetKernel struct {
	// Path of the target's BTF.
	Path  string
	spec  *btf.Spec
	enums map[string]int64
}

// Enum constants the host check reads (include/uapi/linux/bpf.h).
var targetEnums = []string{"BPF_RINGBUF_HDR_SZ", "BPF_MAP_TYPE_RINGBUF",
	"BPF_FUNC_ringbuf_output", "BPF_FUNC_ringbuf_reserve", "BPF_FUNC_ringbuf_reserve_dynptr",
	"BPF_FUNC_perf_event_output"}

// OpenTarget reads a target kernel's BTF: raw BTF, a vmlinux ELF, or module
// BTF split on base (the running kernel's vmlinux when base is empty and
// path is under /sys/kernel/btf). Only the enum constants and the types the
// check names are decoded.
func OpenTarget(path, base string) (*TargetKernel, error) {
	raw, err := readBTF(path)
	if errors.Is(err, fs.ErrNotExist) && path == kernelBTF {
		return nil, ErrNoKernelBTF
	}
	if err != nil {
		return nil, err
	}
	baseSpec, err := splitBase(path, base)
	if err != nil {
		return nil, err
	}
	t := &TargetKernel{Path: path}
	if baseSpec != nil {
		// Split BTF: the UAPI enums live in the base.
		if base == "" {
			base = kernelBTF
		}
		baseRaw, err := readBTF(base)
		if err != nil {
			return nil, fmt.Errorf("base %s: %w", base, err)
		}
		if t.enums, err = scanEnums(baseRaw, targetEnums); err != nil {
			return nil, fmt.Errorf("base %s: %w", base, err)
		}
		t.spec, err = btf.LoadSplitSpecFromReader(bytes.NewReader(raw), baseSpec)
	} else {
		if t.enums, err = scanEnums(raw, targetEnums); err != nil {
			return nil, err
		}
		t.spec, err = btf.LoadSpecFromReader(bytes.NewReader(raw))
	}
	if err != nil {
		return nil, fmt.Errorf("btf: %w", explainBTF(err))
	}
	return t, nil
}

// readBTF returns raw BTF from a raw BTF file or the .BTF section of an ELF.
func readBTF(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, plainPathError(err)
	}
	if !bytes.HasPrefix(raw, []byte(elf.ELFMAG)) {
		if _, err := btfByteOrder(raw); err != nil {
			return nil, fmt.Errorf("not BTF: %w", err)
		}
		return raw, nil
	}
	ef, err := elf.NewFile(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("elf: %w", err)
	}
	sec := ef.Section(".BTF")
	if sec == nil {
		return nil, errors.New("ELF without .BTF")
	}
	return sec.Data()
}

// HeaderSize is the target's BPF_RINGBUF_HDR_SZ, or HeaderSize when the
// target does not define it.
func (t *TargetKernel) HeaderSize() uint64 {
	if v, ok := t.enums["BPF_RINGBUF_HDR_SZ"]; ok && v > 0 {
		return uint64(v)
	}
	return HeaderSize
}

// helperEnum names helpers as enum bpf_func_id does.
var helperEnum = map[string]string{
	HelperRingbufOutput:        "BPF_FUNC_ringbuf_output",
	HelperRingbufReserve:       "BPF_FUNC_ringbuf_reserve",
	HelperRingbufReserveDynptr: "BPF_FUNC_ringbuf_reserve_dynptr",
	HelperPerfEventOutput:      "BPF_FUNC_perf_event_output",
}

// Check compares what r's objects need with the target: ringbuf support, the
// helpers their sites call, and the size of every type reachable from a sent
// type that the target also defines.
func (t *TargetKernel) Check(r *Report, sent []Found) *Target {
	tg := &Target{BTF: t.Path, HeaderSize: t.HeaderSize(), MissingHelpers: []string{}, Drift: []Drift{}}
	_, tg.Ringbuf = t.enums["BPF_MAP_TYPE_RINGBUF"]
	missing := map[string][]string{}
	for _, s := range r.Sites {
		if _, ok := t.enums[helperEnum[s.Helper]]; !ok && !slices.Contains(missing[s.Helper], s.Object) {
			missing[s.Helper] = append(missing[s.Helper], s.Object)
		}
	}
	for h, objs := range missing {
		tg.MissingHelpers = append(tg.MissingHelpers, "bpf_"+h)
		for _, o := range objs {
			r.Warnings = append(r.Warnings, Warning{Object: o,
				Message: fmt.Sprintf("target %s lacks helper bpf_%s", t.Path, h)})
		}
	}
	slices.Sort(tg.MissingHelpers)
	t.relocatedSizes(r)
	tg.Drift = t.drift(sent)
	for _, d := range tg.Drift {
		r.Warnings = append(r.Warnings, Warning{Object: d.object,
			Message: fmt.Sprintf("%s is %d bytes here but %d bytes on target %s", d.Type, d.Size, d.TargetSize, t.Path)})
	}
	return tg
}

// relocatedSizes warns of sends whose CO-RE-relocated size differs on the
// target: libbpf will send the target's size of the type.
func (t *TargetKernel) relocatedSizes(r *Report) {
	for _, s := range r.Sites {
		typ, ok := strings.CutPrefix(s.SizeRelocation, "type_size of ")
		if !ok || s.Size == nil {
			continue
		}
		kind, name := splitKind(typ)
		types, err := t.spec.AnyTypesByName(name)
		if err != nil {
			continue
		}
		for _, tt := range types {
			n, err := btf.Sizeof(tt)
			if err == nil && (kind == "" || kindOf(tt) == kind) && uint64(n) != *s.Size {
				r.Warnings = append(r.Warnings, Warning{Object: s.Object, Map: s.Map, Program: s.Program, File: s.File, Line: s.Line,
					Message: fmt.Sprintf("%s sends the CO-RE size of %s: %d bytes here, %d bytes on target %s", s.Program, typ, *s.Size, n, t.Path)})
				break
			}
		}
	}
}

// drift walks the types reachable from each sent type, not through pointers,
// and compares each named struct or union with the target's of that name.
func (t *TargetKernel) drift(sent []Found) []Drift {
	var out []Drift
	seen := map[string]bool{}
	for _, f := range sent {
		root, _ := Composite(f.Type)
		walkMembers(root, func(m btf.Type) {
			name := TypeName(m)
			if seen[name] || m.TypeName() == "" {
				return
			}
			seen[name] = true
			size, err := btf.Sizeof(m)
			if err != nil {
				return
			}
			if ts, ok := t.sizeOf(m); ok && ts != size {
				out = append(out, Drift{Type: name, Size: uint64(size), TargetSize: uint64(ts), object: f.Object})
			}
		})
	}
	slices.SortFunc(out, func(a, b Drift) int { return cmpKeys(a.Type, b.Type) })
	return out
}

// sizeOf is the size of the target's type of the same kind and name; when
// the target has several, one of the same size wins.
func (t *TargetKernel) sizeOf(m btf.Type) (int, bool) {
	types, err := t.spec.AnyTypesByName(m.TypeName())
	if err != nil {
		return 0, false
	}
	want, _ := btf.Sizeof(m)
	found, size := false, 0
	for _, tt := range types {
		if kindOf(tt) != kindOf(m) || !shareMember(m, tt) {
			// Another type that happens to have the name (an event's
			// own struct key is not the kernel's).
			continue
		}
		n, err := btf.Sizeof(tt)
		if err != nil {
			continue
		}
		if n == want {
			return n, true
		}
		found, size = true, n
	}
	return size, found
}

// shareMember reports whether two structs or unions have a member name in
// common: the sign that they are one type in two versions.
func shareMember(a, b btf.Type) bool {
	names := map[string]bool{}
	for _, m := range members(a) {
		names[m.Name] = m.Name != ""
	}
	for _, m := range members(b) {
		if names[m.Name] {
			return true
		}
	}
	return false
}

func members(t btf.Type) []btf.Member {
	c, _ := Composite(t)
	switch c := c.(type) {
	case *btf.Struct:
		return c.Members
	case *btf.Union:
		return c.Members
	}
	return nil
}

// walkMembers calls fn on every struct, union or typedef of one reachable
// from the members of root (through arrays, qualifiers and nested types).
func walkMembers(root btf.Type, fn func(btf.Type)) {
	visited := map[btf.Type]bool{}
	var walk func(t btf.Type, depth int)
	walk = func(t btf.Type, depth int) {
		if t == nil || visited[t] || depth > maxDepth {
			return
		}
		visited[t] = true
		for _, m := range members(t) {
			inner := unqualified(m.Type, true)
			if _, ok := Composite(inner); ok {
				if _, td := inner.(*btf.Typedef); !td {
					fn(inner)
				}
				c, _ := Composite(inner)
				if c != inner {
					fn(c)
				}
				walk(c, depth+1)
			}
		}
	}
	walk(root, 0)
}
