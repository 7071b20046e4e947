package btfsize

import (
	"bytes"
	"cmp"
	"encoding/json"
	"slices"
	"strings"
)

// ReportVersion is the version of the JSON report this package writes.
const ReportVersion = 1

// Report is everything btfsize found in its inputs. Its JSON form is a
// contract: diff reads it back and pipelines parse it.
type Report struct {
	// Version of the report format.
	Version int `json:"version"`
	// HeaderSize is the ringbuf record header used for every figure, in bytes.
	HeaderSize uint64 `json:"header_size"`
	// Sites are the calls that send data to a ring or perf buffer.
	Sites []Site `json:"sites"`
	// Types are the layouts of the types that were asked for or are sent.
	Types []TypeInfo `json:"types"`
	// Warnings about maps, sizes and types.
	Warnings []Warning `json:"warnings"`
	// Target is the host check, present only with a target kernel's BTF.
	Target *Target `json:"target,omitempty"`
}

// Helper names, as reported.
const (
	HelperRingbufOutput        = "ringbuf_output"
	HelperRingbufReserve       = "ringbuf_reserve"
	HelperRingbufReserveDynptr = "ringbuf_reserve_dynptr"
	HelperPerfEventOutput      = "perf_event_output"
)

// Type sources: the evidence that named the type of a site.
const (
	SourceDWARF  = "dwarf"  // the variable behind the data pointer, from DWARF
	SourceBTF    = "btf"    // a typed function parameter behind the pointer, from BTF
	SourceMap    = "map"    // the map's BTF value type
	SourceLine   = "line"   // the source line text in .BTF.ext line info
	SourceHeader = "header" // a type from a header given on the command line
	SourceSize   = "size"   // the only type of that size
	SourceNone   = "none"   // nothing named it
)

// Site is one physical call that sends data to a ring buffer or perf buffer.
type Site struct {
	// Object is the input path as given.
	Object string `json:"object"`
	// Program is the function that contains the call.
	Program string `json:"program"`
	// EntryPrograms are the programs whose code reaches the call.
	EntryPrograms []string `json:"entry_programs"`
	// Section is the ELF section of Program.
	Section string `json:"section"`
	// Insn is the index of the call in Program, in raw (8-byte) instructions.
	Insn int `json:"insn"`
	// Helper is one of the Helper* names.
	Helper string `json:"helper"`
	// Map is the name of the map passed, "" when it cannot be traced.
	Map string `json:"map"`
	// MapType is "ringbuf", "perf_event_array" or another map type's name.
	MapType string `json:"map_type"`
	// MapSize is the map's max_entries: the ring's size in bytes for a ringbuf.
	MapSize *uint64 `json:"map_size"`
	// Size is the payload size in bytes, nil when it is not one constant.
	Size *uint64 `json:"size"`
	// SizeMin and SizeMax bound a dynamic size where they can be proven.
	SizeMin *uint64 `json:"size_min"`
	SizeMax *uint64 `json:"size_max"`
	// SizeGlobal names the const volatile global in .rodata the size is
	// read from, and SizeDefault is its default: user space may set it
	// before load. The record figures are then those of the default.
	SizeGlobal  string  `json:"size_global,omitempty"`
	SizeDefault *uint64 `json:"size_default,omitempty"`
	// SizeRelocation describes the CO-RE relocation the size comes from,
	// when the loader rewrites it for the kernel: Size is then this build's.
	SizeRelocation string `json:"size_relocation,omitempty"`
	// Type is the C name of the type sent, "" when unknown (null in JSON).
	Type string `json:"type"`
	// TypeSource is one of the Source* names.
	TypeSource string `json:"type_source"`
	// Candidates are the types that match when a size match is ambiguous.
	Candidates []string `json:"candidates"`
	// RecordSize is the bytes one record takes in the buffer, for Size or for
	// SizeMax when the size is dynamic; nil when unbounded.
	RecordSize *uint64 `json:"record_size"`
	// Headroom is the bytes the payload may grow before the record grows.
	Headroom *uint64 `json:"headroom"`
	// RecordsPerRing is how many such records a ringbuf holds.
	RecordsPerRing *uint64 `json:"records_per_ring"`
	// File and Line locate the call in the source, from .BTF.ext line info.
	File string `json:"file"`
	Line int    `json:"line"`
	// Source is the text of that line.
	Source string `json:"source"`
	// CallerFile and CallerLine locate the caller when the call sits in an
	// inlined wrapper of another file (a compat.bpf.h helper).
	CallerFile string `json:"caller_file,omitempty"`
	CallerLine int    `json:"caller_line,omitempty"`
	// Hint says how to name the type when nothing did.
	Hint string `json:"hint,omitempty"`
}

// MarshalJSON writes an unknown type as null, in its place in the contract.
func (s Site) MarshalJSON() ([]byte, error) {
	type plain Site
	out, err := marshal(plain(s))
	if err != nil || s.Type != "" {
		return out, err
	}
	// Keys and string values are escaped, so the only unescaped `"type":""`
	// is the field itself.
	return bytes.Replace(out, []byte(`"type":""`), []byte(`"type":null`), 1), nil
}

// marshal is json.Marshal without HTML escapes: source lines hold & and <.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Dynamic reports whether the size of s is not one constant.
func (s *Site) Dynamic() bool { return s.Size == nil }

// TypeInfo is the measured layout of one struct or union.
type TypeInfo struct {
	// Name in C spelling.
	Name string `json:"name"`
	// Object is the input that defines the type.
	Object string `json:"object"`
	// Source is where the layout came from: "btf", "dwarf" or "header".
	Source string `json:"source"`
	// Size and Align in bytes.
	Size  uint64 `json:"size"`
	Align uint64 `json:"align"`
	// RecordSize and Headroom as a ringbuf record, in bytes.
	RecordSize uint64 `json:"record_size"`
	Headroom   uint64 `json:"headroom"`
	// PerfRecordSize is the bytes one perf buffer sample of it takes.
	PerfRecordSize uint64 `json:"perf_record_size"`
	// Holes counts interior gaps; HoleBytes sums them.
	Holes     int    `json:"holes"`
	HoleBytes uint64 `json:"hole_bytes"`
	// BitHoles counts unused runs of bits in bitfield units; BitHoleBits sums them.
	BitHoles    int    `json:"bit_holes"`
	BitHoleBits uint64 `json:"bit_hole_bits"`
	// BitPadding is the unused bits at the end of the last bitfield unit.
	BitPadding uint64 `json:"bit_padding"`
	// Padding is the tail gap, in bytes.
	Padding uint64 `json:"padding"`
	// Packed is true when the layout shows the type is packed.
	Packed bool `json:"packed"`
	// Union is true for a union.
	Union bool `json:"union"`
	// OptimalSize is the size after reordering, in bytes, and
	// OptimalRecordSize its ringbuf record.
	OptimalSize       uint64 `json:"optimal_size"`
	OptimalRecordSize uint64 `json:"optimal_record_size"`
	// OptimalOrder names the members in the optimal order.
	OptimalOrder []string `json:"optimal_order"`
	// Members in offset order.
	Members []MemberInfo `json:"members"`
	// File and Line of the declaration, where known.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

// MemberInfo is one member of a TypeInfo.
type MemberInfo struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Offset and Size in bytes (Size is the storage unit for a bitfield).
	Offset uint64 `json:"offset"`
	Size   uint64 `json:"size"`
	// Align in bytes; ForcedAlign when it was given explicitly or inferred
	// from a hole natural alignment does not explain.
	Align       uint64 `json:"align"`
	ForcedAlign bool   `json:"forced_align"`
	// BitOffset from the start of the type, in bits; BitSize is a bitfield's
	// width in bits, 0 for a plain member.
	BitOffset uint64 `json:"bit_offset"`
	BitSize   uint64 `json:"bit_size"`
	// HoleAfter is the gap after this member in bytes, BitHoleAfter in bits.
	HoleAfter    uint64 `json:"hole_after"`
	BitHoleAfter uint64 `json:"bit_hole_after"`
}

// Warning is a problem btfsize found in an input that does not stop the report.
type Warning struct {
	Object  string `json:"object"`
	Map     string `json:"map"`
	Program string `json:"program,omitempty"`
	Message string `json:"message"`
	// File and Line locate the send a warning is about.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// Info marks a note rather than a problem.
	Info bool `json:"info,omitempty"`
}

// Target is the check of a target kernel's BTF.
type Target struct {
	BTF            string   `json:"btf"`
	HeaderSize     uint64   `json:"header_size"`
	Ringbuf        bool     `json:"ringbuf"`
	MissingHelpers []string `json:"missing_helpers"`
	Drift          []Drift  `json:"drift"`
}

// Drift is a type whose size differs on the target.
type Drift struct {
	Type       string `json:"type"`
	Size       uint64 `json:"size"`
	TargetSize uint64 `json:"target_size"`

	object string // the input whose type drifted
}

// Info converts a measured layout into its report form.
func (l *Layout) Info(hdr uint64) TypeInfo { return l.info(hdr, nil) }

// infoSlab hands out the lists of many TypeInfos from few allocations.
type infoSlab struct {
	members []MemberInfo
	names   []string
}

// take returns empty lists with room for n members each; a nil slab
// allocates them on their own.
func (s *infoSlab) take(n int) ([]MemberInfo, []string) {
	if s == nil {
		return make([]MemberInfo, 0, n), make([]string, 0, n)
	}
	if s.members == nil || cap(s.members)-len(s.members) < n {
		s.members = make([]MemberInfo, 0, max(n, 4096))
		s.names = make([]string, 0, max(n, 4096))
	}
	at := len(s.members)
	s.members, s.names = s.members[:at+n], s.names[:at+n]
	return s.members[at : at : at+n], s.names[at : at : at+n]
}

func (l *Layout) info(hdr uint64, slab *infoSlab) TypeInfo {
	members, order := slab.take(len(l.Members))
	ti := TypeInfo{
		Name:              l.Name,
		Size:              uint64(l.Size),
		Align:             uint64(l.Align),
		RecordSize:        RecordSize(uint64(l.Size), hdr),
		Headroom:          Headroom(uint64(l.Size), hdr),
		PerfRecordSize:    PerfRecordSize(uint64(l.Size)),
		Holes:             l.Holes,
		HoleBytes:         uint64(l.HoleBytes),
		BitHoles:          l.BitHoles,
		BitHoleBits:       uint64(l.BitHoleBits),
		BitPadding:        uint64(l.BitPadding),
		Padding:           uint64(l.Padding),
		Packed:            l.Packed,
		Union:             l.Union,
		OptimalSize:       uint64(l.OptimalSize),
		OptimalRecordSize: RecordSize(uint64(l.OptimalSize), hdr),
		OptimalOrder:      order,
		Members:           members,
	}
	for _, m := range l.Members {
		ti.Members = append(ti.Members, MemberInfo{
			Name:         m.Name,
			Type:         m.TypeName,
			Offset:       uint64(m.Offset),
			Size:         uint64(m.Size),
			Align:        uint64(m.Align),
			ForcedAlign:  m.Forced,
			BitOffset:    uint64(m.BitOffset),
			BitSize:      uint64(m.BitSize),
			HoleAfter:    uint64(m.HoleAfter),
			BitHoleAfter: uint64(m.BitHoleAfter),
		})
	}
	for _, i := range l.OptimalOrder {
		ti.OptimalOrder = append(ti.OptimalOrder, l.Members[i].Name)
	}
	return ti
}

// Normalize sorts r and replaces nil lists by empty ones, so the same inputs
// always give the same document.
func (r *Report) Normalize() {
	if r.Sites == nil {
		r.Sites = []Site{}
	}
	if r.Types == nil {
		r.Types = []TypeInfo{}
	}
	if r.Warnings == nil {
		r.Warnings = []Warning{}
	}
	for i := range r.Sites {
		s := &r.Sites[i]
		if s.EntryPrograms == nil {
			s.EntryPrograms = []string{}
		}
		if s.Candidates == nil {
			s.Candidates = []string{}
		}
	}
	if r.Target != nil {
		if r.Target.MissingHelpers == nil {
			r.Target.MissingHelpers = []string{}
		}
		if r.Target.Drift == nil {
			r.Target.Drift = []Drift{}
		}
	}
	sortStable(r.Sites, func(a, b *Site) int {
		if c := cmpKeys(a.Object, b.Object, a.Section, b.Section, a.Program, b.Program); c != 0 {
			return c
		}
		return cmp.Compare(a.Insn, b.Insn)
	})
	sortStable(r.Types, func(a, b *TypeInfo) int {
		return cmpKeys(a.Object, b.Object, a.Name, b.Name)
	})
	sortStable(r.Warnings, func(a, b *Warning) int {
		return cmpKeys(a.Object, b.Object, a.Map, b.Map, a.Program, b.Program, a.Message, b.Message)
	})
}

// sortStable sorts items, which may be large, by moving indexes rather than
// items, and not at all when they are in order already.
func sortStable[T any](items []T, cmp func(a, b *T) int) {
	sorted := true
	for i := 1; i < len(items) && sorted; i++ {
		sorted = cmp(&items[i-1], &items[i]) <= 0
	}
	if sorted {
		return
	}
	idx := make([]int32, len(items))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(a, b int32) int { return cmp(&items[a], &items[b]) })
	out := make([]T, len(items))
	for i, j := range idx {
		out[i] = items[j]
	}
	copy(items, out)
}

// cmpKeys compares pairs of strings in order: (a1, b1), (a2, b2), …
func cmpKeys(pairs ...string) int {
	for i := 0; i+1 < len(pairs); i += 2 {
		if c := strings.Compare(pairs[i], pairs[i+1]); c != 0 {
			return c
		}
	}
	return 0
}

// NoSends is the message of the note for an object that sends nothing.
const NoSends = "no ring-buffer or perf-buffer sends"
