package btfsize

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// ErrNoClang is returned when no clang can be found to compile a C source.
var ErrNoClang = errors.New("clang not found: install clang or pass --clang PATH")

// ClangOptions control how C headers and sources are compiled.
type ClangOptions struct {
	// Path of clang; empty means $CLANG, then clang on PATH, then the newest clang-NN.
	Path string
	// Target is "bpfel" (the default) or "bpfeb".
	Target string
	// Includes are -I directories; Defines are -D NAME[=VALUE] switches.
	Includes []string
	Defines  []string
	// Flags are further flags, split on white space.
	Flags []string
}

// FindClang returns the clang to use.
func (o ClangOptions) FindClang() (string, error) {
	if o.Path != "" {
		return exec.LookPath(o.Path)
	}
	if env := os.Getenv("CLANG"); env != "" {
		return exec.LookPath(env)
	}
	if p, err := exec.LookPath("clang"); err == nil {
		return p, nil
	}
	return newestClang(filepath.SplitList(os.Getenv("PATH")))
}

// newestClang finds the clang-NN with the highest NN in dirs.
func newestClang(dirs []string) (string, error) {
	best, bestVer := "", -1
	for _, dir := range dirs {
		matches, _ := filepath.Glob(filepath.Join(dir, "clang-[0-9]*"))
		for _, m := range matches {
			v, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(m), "clang-"))
			if err == nil && v > bestVer {
				best, bestVer = m, v
			}
		}
	}
	if best == "" {
		return "", ErrNoClang
	}
	return best, nil
}

// args builds clang's command line to compile src into out. Debug info keeps
// every type the file defines, used or not.
func (o ClangOptions) args(src, out string) []string {
	target := o.Target
	if target == "" {
		target = "bpfel"
	}
	args := []string{"-target", target, "-g", "-fno-eliminate-unused-debug-types",
		"-O0", "-c", "-x", "c", "-w", "-fno-color-diagnostics"}
	for _, dir := range o.Includes {
		args = append(args, "-I", dir)
	}
	for _, d := range o.Defines {
		args = append(args, "-D", d)
	}
	args = append(args, o.Flags...)
	// The BPF target has no system include directory of its own; libbpf-based
	// builds add the host's multiarch directory for <asm/types.h>.
	if dir := multiarchInclude(); dir != "" {
		args = append(args, "-idirafter", dir)
	}
	return append(args, src, "-o", out)
}

func multiarchInclude() string {
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "riscv64": "riscv64",
		"ppc64le": "powerpc64le", "s390x": "s390x", "386": "i386"}[runtime.GOARCH]
	dir := "/usr/include/" + arch + "-linux-gnu"
	if _, err := os.Stat(dir); arch == "" || err != nil {
		return ""
	}
	return dir
}

// Compile compiles src with clang for the BPF target and returns the object's bytes.
func (o ClangOptions) Compile(src string) ([]byte, error) {
	clang, err := o.FindClang()
	if err != nil {
		if o.Path != "" {
			return nil, fmt.Errorf("%w (%s)", ErrNoClang, o.Path)
		}
		return nil, ErrNoClang
	}
	dir, err := os.MkdirTemp("", "btfsize")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "out.o")
	var stderr bytes.Buffer
	cmd := exec.Command(clang, o.args(src, out)...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("does not compile: %s", firstDiagnostics(stderr.String(), src))
	}
	return os.ReadFile(out)
}

// firstDiagnostics keeps clang's first errors on one line.
func firstDiagnostics(out, src string) string {
	var diags []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "error:") {
			line = strings.TrimPrefix(strings.TrimSpace(line), src+":")
			diags = append(diags, line)
		}
	}
	if len(diags) == 0 {
		return strings.TrimSpace(out)
	}
	more := ""
	if len(diags) > 2 {
		more = fmt.Sprintf(" (and %d more)", len(diags)-2)
	}
	return strings.Join(diags[:min(2, len(diags))], "; ") + more
}

// systemHeader reports whether a declaration's file is a system include, whose
// types a header reports only with --all.
func systemHeader(file string) bool {
	return slices.ContainsFunc([]string{"/usr/", "/opt/", "/lib/"}, func(p string) bool {
		return strings.HasPrefix(file, p)
	})
}
