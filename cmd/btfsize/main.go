// Command btfsize reports what each event an eBPF program sends through a BPF
// ring buffer costs, and what a change to its struct would save.
//
//	$ btfsize testdata/ringbuf-el.elf
//	$ btfsize -t 'struct event' --layout testdata/ringbuf-el.elf
//	$ btfsize --kernel -t task_struct
//	$ btfsize diff old.json new.o
//
// Exit codes: 0 success, 1 a budget or gate failed, 2 usage or input error.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

func main() {
	tuneGC()
	err := run(os.Stdout, os.Stderr, os.Args[1:])
	os.Exit(exitCode(err))
}

// tuneGC trades memory for time, as suits a command that runs for a moment:
// the heap may grow to five times what is live before a collection. A
// kernel's --all report then collects half as often and runs in 15% less
// time, at the same peak memory (40 MiB). GOGC, when set, still decides.
// No memory limit: over one the collector runs without pause, which made
// several kernels decoded at once twice as slow.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

// Errors run returns, each with its exit code.
var (
	// errInput means an input could not be read; its line is already printed.
	errInput = errors.New("input error")
	// errGate means a budget or gate failed; the rows are already printed.
	errGate = errors.New("gate failed")
	// errUsage means the command line is wrong.
	errUsage = errors.New("usage error")
)

func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errGate):
		return 1
	}
	return 2
}

// run is the whole program; main only picks the exit code.
func run(stdout, stderr io.Writer, args []string) error {
	if len(args) > 0 && args[0] == "diff" {
		return runDiff(stdout, stderr, args[1:])
	}
	return runReport(stdout, stderr, args)
}

// fail prints one line for an error that is not an input's and returns it.
func fail(stderr io.Writer, err error) error {
	fmt.Fprintf(stderr, "btfsize: %v\n", err)
	if errors.Is(err, errUsage) {
		fmt.Fprintln(stderr, "Run 'btfsize --help' for usage.")
	}
	return err
}
