package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/btfsize/btfsize/btfsize"
	"github.com/btfsize/btfsize/report"
)

const diffUsage = `Usage: btfsize diff [flags] OLD NEW

btfsize diff compares what each send and each type costs in OLD and in NEW:
size, record, records per ring, and a verdict such as "saves 16 bytes per
record" or "payload -1 byte, record unchanged (48 bytes)".

OLD and NEW are each an eBPF object, a C header, a directory (every ELF
object in it), a quoted glob of objects ('build/*.bpf.o'), or a JSON report
written by btfsize --format json. Sends match by object name, program,
helper and map; types by object name and type name. When each side is one
object, its name does not matter.

Examples:
  btfsize diff old/prog.bpf.o new/prog.bpf.o
  btfsize diff --format markdown base.json 'build/*.bpf.o'
  btfsize diff --format github --fail-on-growth base.json prog.bpf.o

Exit codes: 0 success, 1 a record grew (--fail-on-growth) or a budget of
the NEW side failed (--max-record, --max-waste), 2 usage or input error.

Flags:
`

// diffFlags are the flags of a diff run: the report's, and the gate on growth.
type diffFlags struct {
	reportFlags
	failOnGrowth bool
}

func parseDiffFlags(stderr io.Writer, args []string) (*diffFlags, []string, error) {
	fd := &diffFlags{}
	fs := newReportFlags("btfsize diff", &fd.reportFlags)
	fs.BoolVar(&fd.failOnGrowth, "fail-on-growth", false, "fail (exit 1) when the record of a send or type grew")
	// A diff shows no layouts.
	_ = fs.MarkHidden("layout")
	if err := fd.parse(fs, args, stderr, diffUsage); err != nil {
		return nil, nil, err
	}
	if fs.NArg() != 2 {
		return nil, nil, fmt.Errorf("%w: diff takes two inputs, OLD and NEW, got %d (quote globs: 'build/*.o')", errUsage, fs.NArg())
	}
	return fd, fs.Args(), nil
}

func runDiff(stdout, stderr io.Writer, args []string) error {
	fd, sides, err := parseDiffFlags(stderr, args)
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return diffUsageError(stderr, err)
	}
	fr := &fd.reportFlags
	req, err := fr.request()
	if err != nil {
		return diffUsageError(stderr, err)
	}
	headers, bad := openHeaders(stderr, fr)
	req.Headers = headers
	if fr.targetBTF != "" || fr.kernel {
		t, path, err := openTarget(fr)
		if err != nil {
			fmt.Fprintf(stderr, "btfsize: %s: %v\n", path, oneLine(err))
			return errInput
		}
		req.Target, req.HeaderSize = t, t.HeaderSize()
	}
	oldInputs, badOld := expand(stderr, sides[0])
	newInputs, badNew := expand(stderr, sides[1])
	parts, badLoad := load(stderr, append(oldInputs, newInputs...), fr, req)
	if bad || badOld || badNew || badLoad {
		// A diff against a side with an input missing would report its
		// sends as removed: print nothing rather than that.
		return errInput
	}
	oldReport := btfsize.Merge(req.HeaderSize, parts[:len(oldInputs)])
	newReport := btfsize.Merge(req.HeaderSize, parts[len(oldInputs):])
	d := btfsize.Compare(oldReport, newReport)
	if err := writeDiff(stdout, d, fr.format); err != nil {
		return fail(stderr, err)
	}
	return diffGates(stderr, d, newReport, fd)
}

// diffUsageError prints a usage error and where diff's help is.
func diffUsageError(stderr io.Writer, err error) error {
	fmt.Fprintf(stderr, "btfsize: %v\nRun 'btfsize diff --help' for usage.\n", err)
	return err
}

// expand turns one side of a diff into its inputs: the ELF files of a
// directory, the matches of a glob, or the path itself. A side that names
// nothing gets its line on stderr.
func expand(stderr io.Writer, arg string) ([]string, bool) {
	paths, err := expandSide(arg)
	if err != nil {
		fmt.Fprintf(stderr, "btfsize: %s: %v\n", arg, err)
		return nil, true
	}
	return paths, false
}

func expandSide(arg string) ([]string, error) {
	info, err := os.Stat(arg)
	switch {
	case err == nil && info.IsDir():
		return elfFiles(arg)
	case err != nil && strings.ContainsAny(arg, `*?[`):
		paths, err := filepath.Glob(arg)
		if err != nil {
			return nil, fmt.Errorf("glob: %w", err)
		}
		if len(paths) == 0 {
			return nil, errors.New("no file matches the pattern")
		}
		return paths, nil
	}
	// load says what is wrong with a path that cannot be read.
	return []string{arg}, nil
}

// elfFiles lists the regular files of dir whose content is ELF, sorted, not
// descending into subdirectories.
func elfFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return nil, pe.Err
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if isELF(path) {
			out = append(out, path)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("directory holds no ELF objects")
	}
	return out, nil
}

// isELF reports whether path is a regular file (or a link to one) that
// starts with the ELF magic.
func isELF(path string) bool {
	info, err := os.Stat(path)
	if err != nil || !info.Mode().IsRegular() {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	magic := make([]byte, 4)
	_, err = io.ReadFull(f, magic)
	return err == nil && bytes.Equal(magic, []byte("\x7fELF"))
}

func writeDiff(w io.Writer, d *btfsize.Diff, format string) error {
	switch format {
	case "json":
		return report.DiffJSON(w, d)
	case "markdown":
		return report.DiffMarkdown(w, d)
	case "github":
		return report.DiffGitHub(w, d, os.Getenv("GITHUB_STEP_SUMMARY"))
	}
	return report.DiffText(w, d)
}

// diffGates fails the run on a record that grew (--fail-on-growth) and on
// the budgets, which apply to the new side.
func diffGates(stderr io.Writer, d *btfsize.Diff, newReport *btfsize.Report, fd *diffFlags) error {
	grew := false
	if fd.failOnGrowth {
		sites, types := d.Grown()
		for _, s := range sites {
			fmt.Fprintf(stderr, "btfsize: gate failed: %s: %s %s (%s): %s\n",
				s.New.Object, s.Program, s.Helper, orUnknownType(s.Type), s.Verdict)
		}
		for _, t := range types {
			fmt.Fprintf(stderr, "btfsize: gate failed: %s: %s: %s\n", t.New.Object, t.Name, t.Verdict)
		}
		grew = len(sites)+len(types) > 0
	}
	if err := gates(stderr, newReport, &fd.reportFlags); err != nil || grew {
		return errGate
	}
	return nil
}

func orUnknownType(s string) string {
	if s == "" {
		return "unknown type"
	}
	return s
}
