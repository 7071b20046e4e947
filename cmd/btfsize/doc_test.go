package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The README's examples are real: every ``` block that starts with
// "$ btfsize …" or "$ go run ./cmd/btfsize …" and shows output must match
// what btfsize prints. A line "..." in the block skips output.
func TestREADMEExamples(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, block := range strings.Split(string(raw), "```")[1:] {
		lines := strings.Split(strings.TrimPrefix(block, "\n"), "\n")
		args, ok := exampleArgs(lines[0])
		if !ok || len(lines) < 3 || strings.HasPrefix(lines[1], "$ ") {
			continue // not an example, or commands without output
		}
		if needsClang(args) {
			if _, err := exec.LookPath("clang"); err != nil {
				t.Logf("skipping %q: clang not installed", lines[0])
				ran++
				continue
			}
		}
		want := strings.TrimSuffix(strings.Join(lines[1:], "\n"), "\n")
		var stdout, stderr bytes.Buffer
		run(&stdout, &stderr, args)
		if !matchSegments(stdout.String(), want) {
			t.Errorf("README example %q prints:\n%s\nwant:\n%s", lines[0], stdout.String(), want)
		}
		ran++
	}
	if ran < 4 {
		t.Errorf("ran %d README examples", ran)
	}
}

// needsClang reports an example that compiles a C header.
func needsClang(args []string) bool {
	for _, a := range args {
		if strings.HasSuffix(a, ".h") || strings.HasSuffix(a, ".c") {
			return true
		}
	}
	return false
}

// exampleArgs returns the arguments of an example command line, honouring
// single quotes and dropping a trailing # comment.
func exampleArgs(line string) ([]string, bool) {
	var rest string
	found := false
	for _, prefix := range []string{"$ go run ./cmd/btfsize ", "$ btfsize "} {
		if r, ok := strings.CutPrefix(line, prefix); ok {
			rest, found = r, true
			break
		}
	}
	if !found {
		return nil, false
	}
	var args []string
	var cur strings.Builder
	quoted := false
	for _, r := range rest {
		switch {
		case r == '\'':
			quoted = !quoted
		case r == ' ' && !quoted:
			if cur.Len() > 0 {
				args = append(args, cur.String())
				cur.Reset()
			}
		case r == '#' && !quoted && cur.Len() == 0:
			return args, true
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		args = append(args, cur.String())
	}
	return args, true
}

// matchSegments reports whether the parts of want between "..." lines
// appear in got, in order.
func matchSegments(got, want string) bool {
	for _, seg := range strings.Split("\n"+want+"\n", "\n...\n") {
		seg = strings.Trim(seg, "\n")
		i := strings.Index(got, seg)
		if i < 0 {
			return false
		}
		got = got[i+len(seg):]
	}
	return true
}
