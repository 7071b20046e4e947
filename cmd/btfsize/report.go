package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/pflag"

	"github.com/btfsize/btfsize/btfsize"
	"github.com/btfsize/btfsize/report"
)

const usage = `Usage: btfsize [flags] INPUT...
       btfsize diff [flags] OLD NEW

btfsize reports what each event an eBPF program sends through a BPF ring
buffer costs: raw size, record size (8-byte header, rounded up to 8),
headroom, holes, padding, and what the optimal member order would save.

INPUT is detected by content: an eBPF object (.o, either byte order, with or
without DWARF), a vmlinux ELF or raw BTF (/sys/kernel/btf/vmlinux, module BTF),
a C header or source (compiled with clang for the BPF target), or a JSON
report written by btfsize --format json.

Examples:
  btfsize prog.bpf.o                      every ringbuf/perf send and its cost
  btfsize -t 'struct event' --layout prog.bpf.o
                                          one type, member by member
  btfsize events.h                        the structs a header defines
  btfsize --header events.h stripped.o    name the events of a stripped object
  btfsize --kernel -t task_struct         a type of the running kernel
  btfsize --all --format json /sys/kernel/btf/vmlinux
  btfsize --max-record 256 prog.bpf.o     fail (exit 1) when a record exceeds 256 bytes
  btfsize diff --format markdown base.json prog.bpf.o

Exit codes: 0 success, 1 a budget or gate failed, 2 usage or input error.

Flags:
`

// reportFlags are the flags of a report run.
type reportFlags struct {
	types      []string
	all        bool
	format     string
	layout     bool
	kernel     bool
	base       string
	pageSize   uint64
	headers    []string
	clang      btfsize.ClangOptions
	cflags     string
	maxRecord  uint64
	maxWaste   float64
	targetBTF  string
	help       bool
	parallel   int
	formatHelp string
}

func newReportFlags(name string, fr *reportFlags) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringArrayVarP(&fr.types, "type", "t", nil, "report types by `NAME`: event, 'struct event', event_t, globs, comma lists (repeatable)")
	fs.BoolVar(&fr.all, "all", false, "report every named struct and union")
	fs.StringVar(&fr.format, "format", "table", "output `FORMAT`: table, json, markdown or github")
	fs.BoolVar(&fr.layout, "layout", false, "show each type member by member, with holes, padding and a byte map of the record")
	fs.BoolVar(&fr.kernel, "kernel", false, "read the running kernel's BTF")
	fs.StringVar(&fr.base, "base", "", "base BTF `PATH` for split (module) BTF (default: the running kernel's vmlinux)")
	fs.Uint64Var(&fr.pageSize, "page-size", 0, "page size in `BYTES` for ring-size checks (default 4096, the host's with --kernel)")
	fs.StringArrayVar(&fr.headers, "header", nil, "C header `FILE` whose types name the sends of the objects (repeatable)")
	fs.StringArrayVarP(&fr.clang.Includes, "include", "I", nil, "include `DIR` when compiling C sources")
	fs.StringArrayVarP(&fr.clang.Defines, "define", "D", nil, "define `NAME[=VALUE]` when compiling C sources")
	fs.StringVar(&fr.cflags, "cflags", "", "more clang `FLAGS` for C sources")
	fs.StringVar(&fr.clang.Path, "clang", "", "clang `PATH` (default $CLANG, clang, or the newest clang-NN)")
	fs.StringVar(&fr.clang.Target, "target", "bpfel", "BPF `TARGET` for C sources: bpfel or bpfeb")
	fs.Uint64Var(&fr.maxRecord, "max-record", 0, "fail (exit 1) when a record exceeds `BYTES`")
	fs.Float64Var(&fr.maxWaste, "max-waste", 0, "fail (exit 1) when the optimal order would save more than `PCT` percent of a record")
	fs.StringVar(&fr.targetBTF, "target-btf", "", "check the objects against the target kernel's BTF at `PATH`")
	fs.IntVar(&fr.parallel, "jobs", runtime.GOMAXPROCS(0), "inputs to read at once")
	fs.BoolVarP(&fr.help, "help", "h", false, "show this help")
	return fs
}

func parseReportFlags(stderr io.Writer, args []string) (*reportFlags, []string, error) {
	fr := &reportFlags{}
	fs := newReportFlags("btfsize", fr)
	if err := fr.parse(fs, args, stderr, usage); err != nil {
		return nil, nil, err
	}
	if fs.NArg() == 0 && !fr.kernel {
		return nil, nil, fmt.Errorf("%w: no input", errUsage)
	}
	return fr, fs.Args(), nil
}

// parse parses args with fs, whose flags fill fr, then checks them: a usage
// error, errHelp after writing usage and the flags for --help, or finish's.
func (fr *reportFlags) parse(fs *pflag.FlagSet, args []string, stderr io.Writer, usage string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fr.help {
		fs.SetOutput(stderr)
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
		return errHelp
	}
	return fr.finish()
}

// finish checks the flags' values and fills in their defaults.
func (fr *reportFlags) finish() error {
	switch fr.format {
	case "table", "json", "markdown", "github":
	default:
		return fmt.Errorf("%w: --format %q: want table, json, markdown or github", errUsage, fr.format)
	}
	switch fr.clang.Target {
	case "bpfel", "bpfeb", "bpf":
	default:
		return fmt.Errorf("%w: --target %q: want bpfel or bpfeb", errUsage, fr.clang.Target)
	}
	fr.clang.Flags = strings.Fields(fr.cflags)
	if fr.pageSize == 0 {
		fr.pageSize = 4096
		if fr.kernel {
			fr.pageSize = uint64(os.Getpagesize())
		}
	}
	return nil
}

// errHelp ends a run that printed its help.
var errHelp = errors.New("help")

func runReport(stdout, stderr io.Writer, args []string) error {
	fr, paths, err := parseReportFlags(stderr, args)
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return fail(stderr, err)
	}
	req, err := fr.request()
	if err != nil {
		return fail(stderr, err)
	}
	headers, failed := openHeaders(stderr, fr)
	req.Headers = headers
	inputs := paths
	switch {
	case fr.targetBTF != "" || (fr.kernel && len(paths) > 0):
		// A host check: the kernel is the target, not an input.
		t, path, err := openTarget(fr)
		if err != nil {
			fmt.Fprintf(stderr, "btfsize: %s: %v\n", path, oneLine(err))
			return errInput
		}
		req.Target, req.HeaderSize = t, t.HeaderSize()
	case fr.kernel:
		inputs = []string{kernelInput}
	}
	parts, bad := load(stderr, inputs, fr, req)
	r := btfsize.Merge(req.HeaderSize, parts)
	if err := write(stdout, r, fr); err != nil {
		return fail(stderr, err)
	}
	if bad || failed {
		return errInput
	}
	return gates(stderr, r, fr)
}

// kernelInput stands for --kernel among the inputs.
const kernelInput = "\x00kernel"

func (fr *reportFlags) request() (btfsize.Request, error) {
	m, err := btfsize.NewMatcher(fr.types)
	if err != nil {
		return btfsize.Request{}, fmt.Errorf("%w: %v", errUsage, err)
	}
	return btfsize.Request{Types: m, All: fr.all, HeaderSize: btfsize.HeaderSize, PageSize: fr.pageSize}, nil
}

func (fr *reportFlags) options() btfsize.Options {
	return btfsize.Options{Base: fr.base, Clang: fr.clang}
}

// openHeaders compiles the --header files once for every object.
func openHeaders(stderr io.Writer, fr *reportFlags) ([]*btfsize.Object, bool) {
	var out []*btfsize.Object
	failed := false
	for _, h := range fr.headers {
		obj, err := btfsize.Open(h, fr.options())
		if err != nil {
			fmt.Fprintf(stderr, "btfsize: %s: %v\n", h, err)
			failed = true
			continue
		}
		out = append(out, obj)
	}
	return out, failed
}

// load reads every input, several at once, and returns their reports in
// input order. Each input that fails gets one line on stderr.
func load(stderr io.Writer, inputs []string, fr *reportFlags, req btfsize.Request) ([]*btfsize.Report, bool) {
	parts := make([]*btfsize.Report, len(inputs))
	errs := make([]error, len(inputs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(1, fr.parallel))
	for i, path := range inputs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			parts[i], errs[i] = loadOne(path, fr, req)
		}()
	}
	wg.Wait()
	// With several inputs, a type that some of them lack is a note on
	// those, not an input error, as long as another has it.
	found := slices.ContainsFunc(parts, func(r *btfsize.Report) bool { return r != nil && len(r.Types) > 0 })
	bad := false
	for i, err := range errs {
		if found && errors.Is(err, btfsize.ErrTypeNotFound) {
			parts[i] = &btfsize.Report{Warnings: []btfsize.Warning{{Object: inputs[i], Message: oneLine(err), Info: true}}}
			continue
		}
		if err != nil {
			name := inputs[i]
			if name == kernelInput {
				name = "/sys/kernel/btf/vmlinux"
			}
			fmt.Fprintf(stderr, "btfsize: %s: %v\n", name, oneLine(err))
			bad = true
		}
	}
	return parts, bad
}

// loadOne opens one input and builds its report; a panic in a parser is this
// input's error, not the end of the run.
func loadOne(path string, fr *reportFlags, req btfsize.Request) (r *btfsize.Report, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("malformed input (%v)", p)
		}
	}()
	var obj *btfsize.Object
	if path == kernelInput {
		obj, err = btfsize.OpenKernel()
	} else {
		obj, err = btfsize.Open(path, fr.options())
	}
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	return obj.Report(req)
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func write(out io.Writer, r *btfsize.Report, fr *reportFlags) error {
	// The renderers write line by line: one system call each, unbuffered.
	w := bufio.NewWriterSize(out, 64<<10)
	var err error
	switch fr.format {
	case "json":
		err = report.JSON(w, r)
	case "markdown":
		err = report.Markdown(w, r)
	case "github":
		err = report.GitHub(w, r, os.Getenv("GITHUB_STEP_SUMMARY"))
	default:
		err = report.Text(w, r, report.Options{Layout: fr.layout})
	}
	return errors.Join(err, w.Flush())
}
