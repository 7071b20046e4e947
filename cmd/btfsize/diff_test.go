package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btfsize/btfsize/btfsize"
)

// The committed builds of testdata/diff/event.c: without and with -DSLIM.
const (
	eventOld = "testdata/diff/event-old.elf"
	eventNew = "testdata/diff/event-new.elf"
)

// Every diff scenario reads like a line of the manual.
func TestDiffGolden(t *testing.T) {
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	for _, tc := range []struct {
		name string
		code int
		args []string
	}{
		{"table", 0, []string{"diff", eventOld, eventNew}},
		{"markdown", 0, []string{"diff", "--format", "markdown", eventOld, eventNew}},
		{"json", 0, []string{"diff", "--format", "json", eventOld, eventNew}},
		{"github", 1, []string{"diff", "--format", "github", "--fail-on-growth", eventNew, eventOld}},
		{"github-clean", 0, []string{"diff", "--format", "github", "--fail-on-growth", eventOld, eventNew}},
		{"fail-on-growth", 1, []string{"diff", "--fail-on-growth", eventNew, eventOld}},
		{"max-record", 1, []string{"diff", "--max-record", "100", eventOld, eventNew}},
		{"max-waste", 1, []string{"diff", "--max-waste", "20", "testdata/ringbuf-el.elf", "testdata/ringbuf-eb.elf"}},
		{"byte-orders", 0, []string{"diff", "testdata/ringbuf-el.elf", "testdata/ringbuf-eb.elf"}},
		{"byte-orders-markdown", 0, []string{"diff", "--format", "markdown", "testdata/ringbuf-el.elf", "testdata/ringbuf-eb.elf"}},
		{"directory-glob", 0, []string{"diff", "testdata/diff", "testdata/diff/event-*.elf"}},
		{"missing", 2, []string{"diff", "--fail-on-growth", "testdata/diff/nonexistent.elf", eventNew}},
		{"input-errors", 2, []string{"diff", "testdata/bad/garbage.bin", "testdata/bad/truncated.elf"}},
		{"no-match", 2, []string{"diff", "testdata/diff/*.nope", eventNew}},
		{"no-objects", 2, []string{"diff", "testdata/include", eventNew}},
		{"one-input", 2, []string{"diff", eventOld}},
		{"bad-format", 2, []string{"diff", "--format", "xml", eventOld, eventNew}},
	} {
		t.Run(tc.name, func(t *testing.T) { golden(t, "diff/"+tc.name, tc.code, tc.args...) })
	}
}

// Sides given as directories match their objects by base name: old/a.o
// with new/a.o, whatever else the directories hold.
func TestDiffDirectories(t *testing.T) {
	dir := t.TempDir()
	for path, from := range map[string]string{
		"old/events.o":  eventOld,
		"old/ringbuf.o": "testdata/ringbuf-el.elf",
		"new/events.o":  eventNew,
		"new/ringbuf.o": "testdata/ringbuf-eb.elf",
		"new/README":    "testdata/diff/event.c",
	} {
		copyFile(t, from, filepath.Join(dir, path))
	}
	if err := os.Mkdir(filepath.Join(dir, "new", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, "testdata/subprog-el.elf", filepath.Join(dir, "new", "sub", "subprog.o"))
	golden(t, "diff/directories", 0, "diff", filepath.Join(dir, "old"), filepath.Join(dir, "new"))
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// --format github appends the Markdown diff to $GITHUB_STEP_SUMMARY.
func TestDiffGitHubStepSummary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.md")
	t.Setenv("GITHUB_STEP_SUMMARY", path)
	var stdout, stderr bytes.Buffer
	if err := run(&stdout, &stderr, []string{"diff", "--format", "github", eventNew, eventOld}); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	md := diffOutput(t, "--format", "markdown", eventNew, eventOld)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != md {
		t.Errorf("step summary:\n%s\nwant the markdown diff:\n%s", got, md)
	}
}

// diffOutput runs btfsize diff with args, which must succeed, and returns
// its output.
func diffOutput(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(&stdout, &stderr, append([]string{"diff"}, args...)); err != nil {
		t.Fatalf("btfsize diff %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// A report written with --format json stands for its object: diffing it
// gives what diffing the object gives, in every format.
func TestDiffJSONRoundTrip(t *testing.T) {
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	var report, stderr bytes.Buffer
	if err := run(&report, &stderr, []string{"--format", "json", eventOld}); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	saved := filepath.Join(t.TempDir(), "base.json")
	if err := os.WriteFile(saved, report.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"table", "markdown", "json", "github"} {
		direct := diffOutput(t, "--format", format, eventOld, eventNew)
		viaReport := diffOutput(t, "--format", format, saved, eventNew)
		if direct != viaReport {
			t.Errorf("--format %s: diffing the saved report differs from diffing the object:\n%s\n---\n%s", format, viaReport, direct)
		}
	}
}

// eventRows are the verdicts the -DSLIM change of testdata/diff/event.c
// must get, by program: the examples and every kind of row.
var eventRows = []string{
	"handle_alert ringbuf_reserve alerts struct alert 24 → 24: unchanged",
	"handle_exec ringbuf_reserve events struct event 128 → 112: saves 16 bytes per record",
	"handle_fork ringbuf_reserve events struct fork_event - → 16: added",
	"handle_legacy ringbuf_reserve events struct legacy_event 32 → -: removed",
	"handle_note ringbuf_reserve events struct note 39 → 38: payload -1 byte, record unchanged (48 bytes)",
	"handle_sample ringbuf_output events struct sample 64 → 0..63: size now dynamic (up to 72 bytes per record)",
}

// The end to end case: one C source compiled twice by clang, the second
// time with -DSLIM, and the two objects diffed. The committed objects must
// give the same rows, which proves they match their source.
func TestDiffCompiled(t *testing.T) {
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Skip("clang is not on PATH")
	}
	dir := t.TempDir()
	old, new := filepath.Join(dir, "old", "event.o"), filepath.Join(dir, "new", "event.o")
	for _, build := range []struct {
		out   string
		flags []string
	}{{old, nil}, {new, []string{"-DSLIM"}}} {
		if err := os.MkdirAll(filepath.Dir(build.out), 0o755); err != nil {
			t.Fatal(err)
		}
		args := append([]string{"-target", "bpfel", "-O2", "-g", "-c"}, build.flags...)
		args = append(args, "testdata/diff/event.c", "-o", build.out)
		if out, err := exec.Command(clang, args...).CombinedOutput(); err != nil {
			t.Fatalf("clang %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for _, sides := range [][2]string{{old, new}, {eventOld, eventNew}} {
		got := eventDiffRows(t, diffOutput(t, "--format", "json", sides[0], sides[1]))
		if strings.Join(got, "\n") != strings.Join(eventRows, "\n") {
			t.Errorf("diff %s %s:\n%s\nwant:\n%s", sides[0], sides[1], strings.Join(got, "\n"), strings.Join(eventRows, "\n"))
		}
	}

	// The other way round, struct event grows and the gate fails.
	var stdout, stderr bytes.Buffer
	err = run(&stdout, &stderr, []string{"diff", "--fail-on-growth", new, old})
	if code := exitCode(err); code != 1 {
		t.Errorf("diff --fail-on-growth NEW OLD: exit %d, want 1\n%s", code, stderr.String())
	}
	want := fmt.Sprintf("btfsize: gate failed: %s: handle_exec ringbuf_reserve (struct event): grows by 16 bytes per record\n", old)
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
}

// eventDiffRows reads a JSON diff back into one line per send.
func eventDiffRows(t *testing.T, doc string) []string {
	t.Helper()
	var d btfsize.Diff
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	size := func(s *btfsize.Site) string {
		switch {
		case s == nil:
			return "-"
		case s.Size == nil:
			return fmt.Sprintf("%d..%d", *s.SizeMin, *s.SizeMax)
		}
		return fmt.Sprint(*s.Size)
	}
	var rows []string
	for _, s := range d.Sites {
		rows = append(rows, fmt.Sprintf("%s %s %s %s %s → %s: %s", s.Program, s.Helper, s.Map, s.Type, size(s.Old), size(s.New), s.Verdict))
	}
	return rows
}

func TestDiffHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(&stdout, &stderr, []string{"diff", "--help"}); err != nil {
		t.Fatalf("diff --help: %v", err)
	}
	for _, want := range []string{"Usage: btfsize diff [flags] OLD NEW", "--fail-on-growth"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("diff --help lacks %q:\n%s", want, stderr.String())
		}
	}
}
