package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"github.com/btfsize/btfsize/btfsize"
)

const hostBTF = "/sys/kernel/btf/vmlinux"

// Our size of every named struct and union of the host's kernel BTF agrees
// with bpftool's reading of the same file.
func TestKernelAgainstBpftool(t *testing.T) {
	if _, err := os.Stat(hostBTF); err != nil {
		t.Skip("no kernel BTF")
	}
	if _, err := exec.LookPath("bpftool"); err != nil {
		t.Skip("bpftool not installed")
	}
	out, err := exec.Command("bpftool", "btf", "dump", "file", hostBTF).Output()
	if err != nil {
		t.Skipf("bpftool btf dump: %v", err)
	}
	re := regexp.MustCompile(`(?m)^\[\d+\] (STRUCT|UNION) '([^']+)' size=(\d+)`)
	want := map[string]map[uint64]bool{}
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		if m[2] == "(anon)" {
			continue
		}
		name := map[string]string{"STRUCT": "struct ", "UNION": "union "}[m[1]] + m[2]
		n, _ := strconv.ParseUint(m[3], 10, 64)
		if want[name] == nil {
			want[name] = map[uint64]bool{}
		}
		want[name][n] = true
	}

	var stdout, stderr bytes.Buffer
	if err := run(&stdout, &stderr, []string{"--all", "--format", "json", hostBTF}); err != nil {
		t.Fatalf("btfsize: %v\n%s", err, stderr.String())
	}
	var r btfsize.Report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ty := range r.Types {
		if sizes, ok := want[ty.Name]; ok {
			if !sizes[ty.Size] {
				t.Errorf("%s: btfsize says %d bytes, bpftool %v", ty.Name, ty.Size, sizes)
			}
			seen[ty.Name] = true
		}
		if ty.OptimalSize > ty.Size {
			t.Errorf("%s: optimal size %d larger than size %d", ty.Name, ty.OptimalSize, ty.Size)
		}
		if !ty.Packed && ty.Size%ty.Align != 0 {
			t.Errorf("%s: size %d not a multiple of alignment %d", ty.Name, ty.Size, ty.Align)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("bpftool reads %s, btfsize does not", name)
		}
	}
	if len(seen) < 1000 {
		t.Errorf("compared only %d types", len(seen))
	}
}
