package btfsize

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// kernelBTFOptions describe a small target kernel's BTF.
type kernelBTFOptions struct {
	headerSize uint64
	ringbuf    bool
	dynptr     bool
	in6Size    uint32
}

// writeKernelBTF builds raw BTF with the enums and types the host check reads.
func writeKernelBTF(t *testing.T, o kernelBTFOptions) string {
	t.Helper()
	u8 := &btf.Int{Name: "unsigned char", Size: 1}
	funcs := []btf.EnumValue{{Name: "BPF_FUNC_unspec", Value: 0}, {Name: "BPF_FUNC_perf_event_output", Value: 25}}
	maps := []btf.EnumValue{{Name: "BPF_MAP_TYPE_UNSPEC", Value: 0}}
	var types []btf.Type
	if o.ringbuf {
		funcs = append(funcs, btf.EnumValue{Name: "BPF_FUNC_ringbuf_output", Value: 130},
			btf.EnumValue{Name: "BPF_FUNC_ringbuf_reserve", Value: 131})
		maps = append(maps, btf.EnumValue{Name: "BPF_MAP_TYPE_RINGBUF", Value: 27})
		types = append(types, &btf.Enum{Size: 4, Values: []btf.EnumValue{
			{Name: "BPF_RINGBUF_BUSY_BIT", Value: 1 << 31}, {Name: "BPF_RINGBUF_HDR_SZ", Value: o.headerSize}}})
	}
	if o.dynptr {
		funcs = append(funcs, btf.EnumValue{Name: "BPF_FUNC_ringbuf_reserve_dynptr", Value: 198})
	}
	types = append(types,
		&btf.Enum{Name: "bpf_func_id", Size: 4, Values: funcs},
		&btf.Enum{Name: "bpf_map_type", Size: 4, Values: maps},
		&btf.Struct{Name: "in6_addr", Size: o.in6Size, Members: []btf.Member{
			{Name: "in6_u", Type: &btf.Array{Index: u8, Type: u8, Nelems: o.in6Size}}}},
		// A kernel struct that shares only its name with the event's.
		&btf.Struct{Name: "conn_tuple", Size: 216, Members: []btf.Member{
			{Name: "kernel_only", Type: &btf.Array{Index: u8, Type: u8, Nelems: 216}}}},
	)
	b, err := btf.NewBuilder(types, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "vmlinux")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func targetReport(t *testing.T, fixture, target string) *Report {
	t.Helper()
	tk, err := OpenTarget(target, "")
	if err != nil {
		t.Fatal(err)
	}
	r, err := openFixture(t, fixture).Report(Request{HeaderSize: tk.HeaderSize(), Target: tk})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTargetOldKernel(t *testing.T) {
	path := writeKernelBTF(t, kernelBTFOptions{headerSize: 8, ringbuf: true, in6Size: 16})
	for _, bo := range byteOrders {
		r := targetReport(t, "target-"+bo+".elf", path)
		tg := r.Target
		if !tg.Ringbuf || tg.HeaderSize != 8 {
			t.Errorf("ringbuf %v, header %d", tg.Ringbuf, tg.HeaderSize)
		}
		if !slices.Equal(tg.MissingHelpers, []string{"bpf_ringbuf_reserve_dynptr"}) {
			t.Errorf("missing helpers %q, want the dynptr reserve", tg.MissingHelpers)
		}
		if len(tg.Drift) != 0 {
			t.Errorf("drift %+v, want none", tg.Drift)
		}
	}
}

func TestTargetDrift(t *testing.T) {
	path := writeKernelBTF(t, kernelBTFOptions{headerSize: 8, ringbuf: true, dynptr: true, in6Size: 20})
	r := targetReport(t, "target-el.elf", path)
	want := []Drift{{Type: "struct in6_addr", Size: 16, TargetSize: 20}}
	if len(r.Target.Drift) != 1 || r.Target.Drift[0].Type != want[0].Type ||
		r.Target.Drift[0].Size != 16 || r.Target.Drift[0].TargetSize != 20 {
		t.Errorf("drift %+v, want %+v", r.Target.Drift, want)
	}
	if len(r.Target.MissingHelpers) != 0 {
		t.Errorf("missing helpers %q, want none", r.Target.MissingHelpers)
	}
	for _, want := range []string{
		"struct in6_addr is 16 bytes here but 20 bytes on target",
		"trace_v6_rcv sends the CO-RE size of struct in6_addr: 16 bytes here, 20 bytes on target",
	} {
		if !slices.ContainsFunc(r.Warnings, func(w Warning) bool { return strings.Contains(w.Message, want) }) {
			t.Errorf("no warning %q in %+v", want, r.Warnings)
		}
	}
}

// The header size is read from the target, not assumed.
func TestTargetHeaderSize(t *testing.T) {
	path := writeKernelBTF(t, kernelBTFOptions{headerSize: 16, ringbuf: true, dynptr: true, in6Size: 16})
	r := targetReport(t, "target-el.elf", path)
	if r.HeaderSize != 16 || r.Target.HeaderSize != 16 {
		t.Fatalf("header size %d", r.HeaderSize)
	}
	for _, s := range r.Sites {
		if want := RecordSize(*s.Size, 16); *s.RecordSize != want || (*s.Size == 48 && want != 64) {
			t.Errorf("%s: record %d, want %d with a 16-byte header", s.Program, *s.RecordSize, want)
		}
	}
}

func TestTargetWithoutRingbuf(t *testing.T) {
	path := writeKernelBTF(t, kernelBTFOptions{in6Size: 16})
	r := targetReport(t, "target-el.elf", path)
	if r.Target.Ringbuf || r.HeaderSize != HeaderSize {
		t.Errorf("ringbuf %v header %d", r.Target.Ringbuf, r.HeaderSize)
	}
	want := []string{"bpf_ringbuf_output", "bpf_ringbuf_reserve", "bpf_ringbuf_reserve_dynptr"}
	if !slices.Equal(r.Target.MissingHelpers, want) {
		t.Errorf("missing %q, want %q", r.Target.MissingHelpers, want)
	}
}

func TestTargetHost(t *testing.T) {
	if _, err := os.Stat(kernelBTF); err != nil {
		t.Skip("no kernel BTF")
	}
	r := targetReport(t, "target-el.elf", kernelBTF)
	if !r.Target.Ringbuf || r.Target.HeaderSize != 8 || len(r.Target.Drift) != 0 {
		t.Errorf("host check: %+v", r.Target)
	}
}

func TestTargetErrors(t *testing.T) {
	if _, err := OpenTarget(filepath.Join(t.TempDir(), "none"), ""); err == nil {
		t.Error("missing target: no error")
	}
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte{0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0}, 0o644)
	if _, err := OpenTarget(bad, ""); err == nil {
		t.Error("truncated target: no error")
	}
}

func TestScanEnums(t *testing.T) {
	path := writeKernelBTF(t, kernelBTFOptions{headerSize: 8, ringbuf: true, in6Size: 16})
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := scanEnums(raw, targetEnums)
	if err != nil {
		t.Fatal(err)
	}
	if got["BPF_RINGBUF_HDR_SZ"] != 8 || got["BPF_FUNC_ringbuf_reserve"] != 131 || got["BPF_MAP_TYPE_RINGBUF"] != 27 {
		t.Errorf("enums %v", got)
	}
	if _, ok := got["BPF_FUNC_ringbuf_reserve_dynptr"]; ok {
		t.Error("found an enumerator that is not there")
	}
}
