package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

var reClangVersion = regexp.MustCompile(`clang version [0-9.]+`)

// The committed objects are what their C sources compile to: rebuilt with
// the Makefile's flags by the same clang version, they are byte for byte
// the same. Another clang version lays code out differently: skip then.
func TestFixturesMatchSources(t *testing.T) {
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Skip("clang not installed")
	}
	out, err := exec.Command(clang, "--version").Output()
	if err != nil {
		t.Skip("clang --version failed")
	}
	version := reClangVersion.Find(out)
	cwd, _ := os.Getwd()
	dir := t.TempDir()
	checked := 0
	for _, name := range []string{"ringbuf", "subprog", "dynamic", "layout", "ksym", "target", "naming", "nosends"} {
		for _, target := range []string{"bpfel", "bpfeb"} {
			committed := filepath.Join("testdata", name+"-"+target[3:]+".elf")
			want, err := os.ReadFile(committed)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(reClangVersion.Find(want), version) {
				t.Skipf("committed objects were built by %s, this is %s", reClangVersion.Find(want), version)
			}
			built := filepath.Join(dir, name+"-"+target+".elf")
			cmd := exec.Command(clang, "-target", target, "-O2", "-g", "-mcpu=v3", "-Wall", "-Werror",
				"-Itestdata/include", "-fdebug-prefix-map="+cwd+"=.", "-c", filepath.Join("testdata", name+".c"), "-o", built)
			if msg, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", committed, err, msg)
			}
			got, err := os.ReadFile(built)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from its source: run make fixtures", committed)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Error("checked no fixture")
	}
}
