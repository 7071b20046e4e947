// Command benchcmp times btfsize against the tools people use today, in one
// run with alternating repetitions, and prints medians and ratios.
//
//	$ benchcmp -runs 15 -case 'one type|bin/btfsize --kernel -t task_struct|pahole -C task_struct /sys/kernel/btf/vmlinux'
//
// Each -case is "name|our command|their command"; a case whose other tool
// is missing or fails is reported as such. Peak RSS is the largest maximum
// resident set size over the runs; cpu/wall above 1 means more than one
// core was busy.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

func main() {
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "benchcmp: %v\n", err)
		os.Exit(2)
	}
}

type caseFlag []string

func (c *caseFlag) String() string     { return strings.Join(*c, ", ") }
func (c *caseFlag) Set(v string) error { *c = append(*c, v); return nil }

func run(w io.Writer, args []string) error {
	fs := flag.NewFlagSet("benchcmp", flag.ContinueOnError)
	runs := fs.Int("runs", 11, "repetitions of each command")
	var cases caseFlag
	fs.Var(&cases, "case", "`name|ours|theirs` (repeatable; theirs may be empty)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "case\tbtfsize\tother\tratio\tbtfsize peak RSS\tother peak RSS\tbtfsize cpu/wall")
	for _, c := range cases {
		parts := strings.SplitN(c, "|", 3)
		if len(parts) < 2 {
			return fmt.Errorf("case %q: want name|ours|theirs", c)
		}
		theirs := ""
		if len(parts) == 3 {
			theirs = parts[2]
		}
		ours, other, err := compare(parts[1], theirs, *runs)
		if err != nil {
			return fmt.Errorf("%s: %w", parts[0], err)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.2f\n", parts[0], ms(ours.median), other.text(),
			ratio(ours, other), mib(ours.peak), other.rss(), ours.cpu)
	}
	return tw.Flush()
}

// result is what the runs of one command measured.
type result struct {
	median time.Duration
	peak   int64 // bytes
	cpu    float64
	err    error
}

func (r result) text() string {
	if r.err != nil {
		return "n/a (" + r.err.Error() + ")"
	}
	return ms(r.median)
}

func (r result) rss() string {
	if r.err != nil {
		return "-"
	}
	return mib(r.peak)
}

func ratio(ours, other result) string {
	if other.err != nil || other.median == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", float64(ours.median)/float64(other.median))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
func mib(b int64) string        { return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20)) }

// compare alternates the two commands so drift in the machine's load hits both.
func compare(ours, theirs string, runs int) (result, result, error) {
	var a, b []sample
	var errB error
	if theirs == "" {
		errB = errors.New("no other tool")
	}
	for range runs {
		s, err := once(ours)
		if err != nil {
			return result{}, result{}, err
		}
		a = append(a, s)
		if errB == nil {
			s, err := once(theirs)
			if err != nil {
				errB = err
				continue
			}
			b = append(b, s)
		}
	}
	other := summarize(b)
	other.err = errB
	return summarize(a), other, nil
}

type sample struct {
	wall, cpu time.Duration
	rss       int64
}

// once runs a shell command, discarding its output.
func once(command string) (sample, error) {
	cmd := exec.Command("sh", "-c", command)
	start := time.Now()
	if err := cmd.Run(); err != nil {
		name := strings.Fields(command)[0]
		if errors.Is(err, exec.ErrNotFound) {
			return sample{}, fmt.Errorf("%s not installed", name)
		}
		return sample{}, fmt.Errorf("%s failed: %v", name, err)
	}
	wall := time.Since(start)
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	s := sample{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	if ru != nil {
		s.rss = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return s, nil
}

func summarize(ss []sample) result {
	if len(ss) == 0 {
		return result{}
	}
	walls := make([]time.Duration, len(ss))
	var r result
	var cpu, wall time.Duration
	for i, s := range ss {
		walls[i] = s.wall
		r.peak = max(r.peak, s.rss)
		cpu += s.cpu
		wall += s.wall
	}
	slices.Sort(walls)
	r.median = walls[len(walls)/2]
	r.cpu = float64(cpu) / float64(wall)
	return r
}
