package btfsize

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/cilium/ebpf/btf"
)

// Errors returned by Open.
var (
	// ErrUnknownFormat is returned for a file that is neither ELF, BTF, a C
	// source nor a btfsize JSON report.
	ErrUnknownFormat = errors.New("not an ELF object, raw BTF, C source or btfsize JSON report")
	// ErrNoTypeInfo is returned for an ELF file with neither .BTF nor DWARF.
	ErrNoTypeInfo = errors.New("no .BTF and no DWARF: compile with -g")
	// ErrEmpty is returned for an empty file.
	ErrEmpty = errors.New("empty file")
)

// Kind is the kind of an input.
type Kind int

// Kinds of input, detected by content.
const (
	KindObject Kind = iota // an eBPF ELF object (EM_BPF)
	KindELF                // another ELF with .BTF or DWARF, such as vmlinux
	KindRawBTF             // raw BTF, such as /sys/kernel/btf/vmlinux
	KindHeader             // a C header or source compiled by clang
	KindReport             // a JSON report written by btfsize
	KindKernel             // the running kernel's BTF
)

func (k Kind) String() string {
	return [...]string{"eBPF object", "ELF", "raw BTF", "C source", "btfsize report", "kernel BTF"}[k]
}

// Object is one loaded input.
type Object struct {
	// Path as given.
	Path string
	// Kind of input.
	Kind Kind
	// ByteOrder of the ELF or BTF.
	ByteOrder binary.ByteOrder
	// DWARF of the input; nil when it has none.
	DWARF *DWARF
	// Report is the document read from a JSON report.
	Document *Report

	elf  *elf.File
	ext  *btf.ExtInfos
	file *os.File

	// spec is the decoded BTF; nil when the input has none. For raw BTF it
	// is decoded on first use (loadSpec), from raw.
	spec     *btf.Spec
	loadSpec func() (*btf.Spec, error)
	specOnce sync.Once
	specErr  error
	// raw indexes the raw BTF of a raw BTF input, for measuring every
	// type without decoding them (rawMeasurer).
	raw *rawTypes
}

// Spec returns the BTF of o, nil when it has none.
func (o *Object) Spec() (*btf.Spec, error) {
	o.specOnce.Do(func() {
		if o.loadSpec != nil {
			o.spec, o.specErr = o.loadSpec()
		}
	})
	return o.spec, o.specErr
}

// hasBTF reports whether o has BTF, decoded or not.
func (o *Object) hasBTF() bool { return o.spec != nil || o.loadSpec != nil }

// Close releases the file behind o.
func (o *Object) Close() error {
	if o.file != nil {
		return o.file.Close()
	}
	return nil
}

// Options control how inputs are opened.
type Options struct {
	// Base is the path of the BTF that split BTF (a kernel module's) is read
	// on; empty means the running kernel's vmlinux for /sys/kernel/btf/<module>.
	Base string
	// Clang compiles C sources; see ClangOptions.
	Clang ClangOptions
}

// kernelBTF is where the running kernel exposes its BTF.
const kernelBTF = "/sys/kernel/btf/vmlinux"

// Open loads the input at path, detecting its kind from its content.
// Panics from the parsers on hostile input are returned as errors.
func Open(path string, opts Options) (obj *Object, err error) {
	defer func() {
		if r := recover(); r != nil {
			obj, err = nil, fmt.Errorf("malformed input (parser failed: %v)", r)
		}
	}()
	return open(path, opts)
}

// OpenKernel loads the running kernel's BTF.
func OpenKernel() (*Object, error) {
	if obj, err := open(kernelBTF, Options{}); err == nil && obj.Kind == KindRawBTF {
		obj.Kind = KindKernel
		return obj, nil
	}
	spec, err := btf.LoadKernelSpec()
	if err != nil {
		return nil, fmt.Errorf("kernel BTF: %w (is CONFIG_DEBUG_INFO_BTF enabled?)", err)
	}
	return &Object{Path: kernelBTF, Kind: KindKernel, spec: spec, ByteOrder: binary.NativeEndian}, nil
}

func open(path string, opts Options) (*Object, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, plainPathError(err)
	}
	obj, err := openFile(f, path, opts)
	if err != nil || obj.file == nil {
		f.Close()
	}
	return obj, err
}

// plainPathError drops the path from an *fs.PathError: the CLI names the input.
func plainPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func openFile(f *os.File, path string, opts Options) (*Object, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, plainPathError(err)
	}
	if info.IsDir() {
		return nil, errors.New("is a directory")
	}
	head := make([]byte, 512)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, plainPathError(err)
	}
	head = head[:n]
	switch {
	case n == 0:
		return nil, ErrEmpty
	case bytes.HasPrefix(head, []byte(elf.ELFMAG)):
		return openELF(f, path)
	case isBTFMagic(head):
		return openRawBTF(f, path, opts)
	case isJSON(head):
		return openReport(f, path)
	case isText(head):
		return openSource(path, opts.Clang)
	}
	return nil, ErrUnknownFormat
}

// isBTFMagic reports the BTF magic 0xeB9F in either byte order (include/uapi/linux/btf.h).
func isBTFMagic(b []byte) bool {
	return len(b) >= 2 && (b[0] == 0x9f && b[1] == 0xeb || b[0] == 0xeb && b[1] == 0x9f)
}

func isJSON(b []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("{"))
}

// isText reports whether b looks like C source: no NUL bytes, mostly
// printable, and a word C headers are made of.
func isText(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 || !bytes.ContainsAny(b, ";#/") {
		return false
	}
	bad := 0
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' {
			bad++
		}
	}
	return bad*20 < len(b)
}

func openELF(f *os.File, path string) (*Object, error) {
	ef, err := elf.NewFile(f)
	if err != nil {
		return nil, fmt.Errorf("truncated or corrupt ELF: %w", err)
	}
	obj := &Object{Path: path, Kind: KindELF, ByteOrder: ef.ByteOrder, elf: ef, file: f}
	if ef.Machine == elf.EM_BPF {
		obj.Kind = KindObject
	}
	if ef.Section(".BTF") != nil {
		spec, ext, err := loadELFBTF(f, obj.Kind)
		if err != nil {
			return nil, err
		}
		obj.spec, obj.ext = spec, ext
		r := elfBTF(ef)
		switch {
		case r == nil:
		case obj.Kind == KindELF && !r.adjustedByELF():
			// A kernel image: its types are measured from the raw section
			// for --all, once the decoder has checked the ELF around it.
			obj.raw = r
		case obj.Kind == KindObject:
			// The decoder's walk of every type stops at a reference to a
			// type that does not exist without a word: say it.
			if err := r.checkRefs(1); err != nil {
				return nil, fmt.Errorf("btf: %w", err)
			}
		}
	}
	if obj.Kind == KindELF && obj.hasBTF() {
		// A vmlinux image: its .BTF has every type, and its DWARF is
		// hundreds of megabytes that would take longer than everything else.
		return obj, nil
	}
	d, err := loadDWARF(ef)
	if err != nil {
		if !obj.hasBTF() {
			return nil, err
		}
		// The BTF still gives every type the programs use.
		d = nil
	}
	obj.DWARF = d
	if !obj.hasBTF() && obj.DWARF == nil {
		return nil, ErrNoTypeInfo
	}
	return obj, nil
}

// loadELFBTF reads .BTF, and .BTF.ext for eBPF objects.
func loadELFBTF(f *os.File, kind Kind) (*btf.Spec, *btf.ExtInfos, error) {
	if kind != KindObject {
		spec, err := btf.LoadSpecFromReader(f)
		if err != nil {
			return nil, nil, fmt.Errorf("btf: %w", explainBTF(err))
		}
		return spec, nil, nil
	}
	spec, ext, err := btf.LoadSpecAndExtInfosFromReader(f)
	if err != nil {
		return nil, nil, fmt.Errorf("btf: %w", explainBTF(err))
	}
	return spec, ext, nil
}

// explainBTF adds advice to errors users can act on.
func explainBTF(err error) error {
	switch msg := err.Error(); {
	case strings.Contains(msg, "unknown kind") || strings.Contains(msg, "invalid kind"):
		return fmt.Errorf("%w (a newer btfsize, built on a newer cilium/ebpf, may read it)", err)
	case strings.Contains(msg, "string table is non-empty") || strings.Contains(msg, "out of bounds of string table"):
		return fmt.Errorf("%w (split BTF of a module? pass --base with the vmlinux BTF it was built on)", err)
	}
	return err
}

func openRawBTF(f *os.File, path string, opts Options) (*Object, error) {
	bo := binary.ByteOrder(binary.LittleEndian)
	var magic [2]byte
	if _, err := f.ReadAt(magic[:], 0); err == nil && magic[0] == 0xeb {
		bo = binary.BigEndian
	}
	obj := &Object{Path: path, Kind: KindRawBTF, ByteOrder: bo}
	base, err := splitBase(path, opts.Base)
	if err != nil {
		return nil, err
	}
	if base != nil {
		spec, err := btf.LoadSplitSpecFromReader(f, base)
		if err != nil {
			return nil, fmt.Errorf("split btf: %w", explainBTF(err))
		}
		obj.spec = spec
		return obj, nil
	}
	raw, err := readAll(f)
	if err != nil {
		return nil, plainPathError(err)
	}
	load := func() (*btf.Spec, error) {
		spec, err := btf.LoadSpecFromReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("btf: %w", explainBTF(err))
		}
		return spec, nil
	}
	// BTF the index refuses is decoded now: for the decoder's own words on
	// what is wrong, or, should it read what the index refuses, its types.
	if obj.raw, err = parseRawTypes(raw); err != nil {
		if obj.spec, err = load(); err != nil {
			return nil, err
		}
		return obj, nil
	}
	obj.loadSpec = load
	return obj, nil
}

// elfBTF indexes the .BTF of an ELF, the last section of that name as
// cilium/ebpf reads it; nil if it cannot.
func elfBTF(ef *elf.File) *rawTypes {
	var sec *elf.Section
	for _, s := range ef.Sections {
		if s.Name == ".BTF" {
			sec = s
		}
	}
	if sec == nil || sec.Type == elf.SHT_NOBITS || sec.Size > maxRawBTF {
		return nil
	}
	raw, err := sec.Data()
	if err != nil {
		return nil
	}
	r, err := parseRawTypes(raw)
	if err != nil {
		return nil
	}
	return r
}

// maxRawBTF bounds the raw BTF read whole: a kernel's is a few MiB.
const maxRawBTF = 256 << 20

// readAll reads f whole, in one read when its size is known, and refuses
// more than maxRawBTF bytes rather than reading them.
func readAll(f *os.File) ([]byte, error) {
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
		if info.Size() > maxRawBTF {
			return nil, fmt.Errorf("raw BTF of %d MiB, more than any kernel's (%d MiB at most)", info.Size()>>20, maxRawBTF>>20)
		}
		raw := make([]byte, info.Size())
		n, err := f.ReadAt(raw, 0)
		if err == nil || (errors.Is(err, io.EOF) && n == len(raw)) {
			return raw, nil
		}
	}
	raw, err := io.ReadAll(io.LimitReader(io.NewSectionReader(f, 0, math.MaxInt64), maxRawBTF+1))
	if err == nil && len(raw) > maxRawBTF {
		return nil, fmt.Errorf("raw BTF of more than %d MiB, more than any kernel's", maxRawBTF>>20)
	}
	return raw, err
}

// splitBase loads the base BTF for split BTF: the one given, or the running
// kernel's vmlinux for a module under /sys/kernel/btf.
func splitBase(path, base string) (*btf.Spec, error) {
	if base == "" {
		abs, _ := filepath.Abs(path)
		if filepath.Dir(abs) != filepath.Dir(kernelBTF) || abs == kernelBTF {
			return nil, nil
		}
		base = kernelBTF
	}
	spec, err := btf.LoadSpec(base)
	if err != nil {
		return nil, fmt.Errorf("base %s: %w", base, err)
	}
	return spec, nil
}

var errHeaderEmpty = errors.New("defines no struct or union")

// openSource compiles a C header or source and reads the types it defines
// from the resulting DWARF.
func openSource(path string, opts ClangOptions) (*Object, error) {
	raw, err := opts.Compile(path)
	if err != nil {
		return nil, err
	}
	ef, err := elf.NewFile(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("compiled object: %w", err)
	}
	d, err := loadDWARF(ef)
	if err != nil {
		return nil, fmt.Errorf("compiled object: %w", err)
	}
	if d == nil {
		// clang emits no debug info for a file that declares nothing.
		return nil, errHeaderEmpty
	}
	return &Object{Path: path, Kind: KindHeader, ByteOrder: ef.ByteOrder, DWARF: d}, nil
}

// openReport reads a JSON report written by btfsize --format json.
func openReport(f *os.File, path string) (*Object, error) {
	var r Report
	dec := json.NewDecoder(io.NewSectionReader(f, 0, 1<<62))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("json report: %w", err)
	}
	if r.Version != ReportVersion {
		return nil, fmt.Errorf("json report: version %d, want %d", r.Version, ReportVersion)
	}
	r.Normalize()
	return &Object{Path: path, Kind: KindReport, Document: &r}, nil
}
