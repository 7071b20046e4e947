package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestMain runs from the repository root so inputs and outputs read as in
// the README: testdata/ringbuf-el.elf.
func TestMain(m *testing.M) {
	if err := os.Chdir(filepath.Join("..", "..")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// golden runs btfsize with args and compares stdout and stderr with
// testdata/golden/<name>.stdout and .stderr, and the exit code with code.
func golden(t *testing.T, name string, code int, args ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(&stdout, &stderr, args)
	if got := exitCode(err); got != code {
		t.Errorf("btfsize %s: exit %d, want %d\nstderr:\n%s", strings.Join(args, " "), got, code, stderr.String())
	}
	compareGolden(t, name+".stdout", stdout.Bytes())
	compareGolden(t, name+".stderr", stderr.Bytes())
}

func compareGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/btfsize -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// Every scenario reads like a line of the manual.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		code int
		args []string
	}{
		{"ringbuf", 0, []string{"testdata/ringbuf-el.elf"}},
		{"ringbuf-stripped", 0, []string{"testdata/ringbuf-el.stripped.elf"}},
		{"ringbuf-json", 0, []string{"--format", "json", "testdata/ringbuf-el.elf"}},
		{"ringbuf-markdown", 0, []string{"--format", "markdown", "testdata/ringbuf-el.elf"}},
		{"dynamic", 0, []string{"testdata/dynamic-el.elf"}},
		{"dynamic-json", 0, []string{"--format", "json", "testdata/dynamic-el.elf"}},
		{"dynamic-github", 0, []string{"--format", "github", "testdata/dynamic-el.elf"}},
		{"subprog", 0, []string{"testdata/subprog-el.elf"}},
		{"layout-sites", 0, []string{"testdata/layout-el.elf"}},
		{"ksym", 0, []string{"testdata/ksym-el.elf"}},
		{"linked", 0, []string{"testdata/linked-el.elf"}},
		{"alert-layout", 0, []string{"-t", "struct alert", "--layout", "testdata/ringbuf-el.elf"}},
		{"bitfields-layout", 0, []string{"-t", "bitfields,aligned_member", "--layout", "testdata/layout-el.elf"}},
		{"all-layout", 0, []string{"--all", "testdata/layout-el.elf"}},
		{"glob", 0, []string{"-t", "rec*", "--format", "json", "testdata/layout-el.elf"}},
		{"two-objects", 0, []string{"testdata/ringbuf-el.elf", "testdata/subprog-eb.elf"}},
		{"module-btf", 0, []string{"--base", "testdata/split/base.btf", "-t", "nf_conn_tuple", "--layout", "testdata/split/module.btf"}},
		{"module-btf-no-base", 2, []string{"-t", "nf_conn_tuple", "testdata/split/module.btf"}},
		{"module-target", 0, []string{"--base", "testdata/split/base.btf", "--target-btf", "testdata/split/module.btf", "testdata/target-el.elf"}},
		{"module-target-json", 0, []string{"--base", "testdata/split/base.btf", "--target-btf", "testdata/split/module.btf", "--format", "json", "testdata/target-eb.elf"}},
		{"no-sends", 0, []string{"testdata/nosends-el.elf"}},
		{"max-record", 1, []string{"--max-record", "128", "testdata/ringbuf-el.elf"}},
		{"max-waste", 1, []string{"--max-waste", "20", "-t", "alert", "testdata/ringbuf-el.elf"}},
		{"found-in-one", 0, []string{"-t", "struct alert", "testdata/ringbuf-el.elf", "testdata/subprog-el.elf"}},
		{"not-found", 2, []string{"-t", "struct allert", "testdata/ringbuf-el.elf"}},
		{"missing-and-good", 2, []string{"testdata/nonexistent.o", "testdata/ksym-el.elf"}},
		{"directory", 2, []string{"testdata"}},
		{"not-elf", 2, []string{"testdata/bad/garbage.bin"}},
		{"truncated", 2, []string{"testdata/bad/truncated.elf"}},
		{"no-type-info", 2, []string{"testdata/bad/nobtf.elf"}},
		{"empty-and-good", 2, []string{"testdata/bad/empty", "-t", "rec39", "testdata/layout-el.elf"}},
		{"bad-format", 2, []string{"--format", "xml", "testdata/ringbuf-el.elf"}},
		{"no-input", 2, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) { golden(t, tc.name, tc.code, tc.args...) })
	}
}

// Both byte orders give the same report but for the object's name.
func TestByteOrdersAgree(t *testing.T) {
	for _, fixture := range []string{"ringbuf", "subprog", "dynamic", "layout", "ksym", "target", "ringbuf-%s.stripped"} {
		var outs [2]string
		for i, bo := range []string{"el", "eb"} {
			path := fmt.Sprintf("testdata/%s-%s.elf", fixture, bo)
			if strings.Contains(fixture, "%s") {
				path = fmt.Sprintf("testdata/"+fixture+".elf", bo)
			}
			var stdout, stderr bytes.Buffer
			if err := run(&stdout, &stderr, []string{"--format", "json", path}); err != nil {
				t.Fatalf("%s: %v\n%s", path, err, stderr.String())
			}
			outs[i] = strings.ReplaceAll(stdout.String(), path, "OBJECT")
		}
		if outs[0] != outs[1] {
			t.Errorf("%s: little- and big-endian reports differ:\n%s\n---\n%s", fixture, outs[0], outs[1])
		}
	}
}
