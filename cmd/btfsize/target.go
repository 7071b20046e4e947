package main

import (
	"github.com/btfsize/btfsize/btfsize"
)

// openTarget reads the kernel BTF that --target-btf or --kernel (with
// objects) names, so every figure uses its record header.
func openTarget(fr *reportFlags) (*btfsize.TargetKernel, string, error) {
	path := fr.targetBTF
	if path == "" {
		path = "/sys/kernel/btf/vmlinux"
	}
	t, err := btfsize.OpenTarget(path, fr.base)
	return t, path, err
}
