package btfsize

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
)

// ErrNoSelection is returned for kernel BTF without -t or --all: it holds
// tens of thousands of types.
var ErrNoSelection = errors.New("kernel BTF holds thousands of types: name some with -t NAME, or pass --all")

// Request says what to report about an object.
type Request struct {
	// Types selects types by name (-t); nil or empty selects none.
	Types *Matcher
	// All reports every named struct and union.
	All bool
	// HeaderSize of a ringbuf record, in bytes; 0 means HeaderSize.
	HeaderSize uint64
	// PageSize for ring-size warnings, in bytes; 0 means 4096.
	PageSize uint64
	// Headers name the types of call sites in stripped objects.
	Headers []*Object
	// Target, when set, is the kernel the objects are checked against.
	Target *TargetKernel
}

func (q *Request) hdr() uint64 {
	if q.HeaderSize == 0 {
		return HeaderSize
	}
	return q.HeaderSize
}

// Report builds the report of one object: its sends and the layouts of the
// types they send by default, or the types the request selects.
func (o *Object) Report(q Request) (*Report, error) {
	if o.Kind == KindReport {
		return o.Document, nil
	}
	r := &Report{Version: ReportVersion, HeaderSize: q.hdr()}
	var types []Found
	raw, err := o.reportRaw(q, r)
	switch {
	case raw || err != nil:
		// Measured from the raw BTF, or refused.
	case !q.Types.Empty():
		types, err = o.Select(q.Types)
	case q.All:
		types, err = o.All(false)
	case o.Kind == KindObject:
		types, err = o.sends(q, r)
	case o.Kind == KindHeader:
		types, err = o.All(true)
		if err == nil && len(types) == 0 {
			err = errHeaderEmpty
		}
	default:
		err = ErrNoSelection
	}
	if err != nil {
		return nil, err
	}
	for _, f := range types {
		ti, err := f.Info(r.HeaderSize)
		if err != nil {
			r.Warnings = append(r.Warnings, Warning{Object: o.Path,
				Message: fmt.Sprintf("%s: cannot measure: %v", TypeName(f.Type), err)})
			continue
		}
		r.Types = append(r.Types, ti)
	}
	if q.Target != nil {
		r.Target = q.Target.Check(r, types)
	}
	r.Normalize()
	return r, nil
}

// reportRaw measures into r, straight from raw BTF, every type (--all) or
// those the globs of -t select, as All or Select and Info would, when
// nothing in the BTF needs the type decoder. A glob that selects nothing is
// left to Select, which says so with the names it resembles; literal names
// are looked up instead. raw is false when the decoder is to do it.
func (o *Object) reportRaw(q Request, r *Report) (raw bool, err error) {
	if o.raw == nil || o.DWARF != nil || q.Target != nil {
		return false, nil
	}
	var keep func(kind, name string) bool
	var hits []atomic.Bool
	switch {
	case !q.Types.Empty():
		if _, literal := q.Types.Literals(); literal {
			return false, nil
		}
		hits = make([]atomic.Bool, len(q.Types.patterns))
		keep = func(kind, name string) bool { return q.Types.matchName(kind, name, hits) }
	case !q.All:
		return false, nil
	}
	// The check that decoding would succeed runs alongside: the raw reader
	// follows type references with care of its own. A reference to a type
	// that does not exist is the input's error: the decoder would stop its
	// walk of every type there without a word.
	refs := make(chan error, 1)
	go func() { refs <- o.raw.checkRefs(1) }()
	types, err := newRawMeasurer(o.raw).selected(r.HeaderSize, o.Path, runtime.GOMAXPROCS(0), keep)
	if err := <-refs; err != nil {
		return false, err
	}
	if err != nil {
		return false, nil
	}
	for i := range hits {
		if !hits[i].Load() {
			return false, nil
		}
	}
	r.Types = types
	return true, nil
}

// sends adds the object's call sites to r and returns the types they send,
// or, for an object that sends nothing, the types it defines.
func (o *Object) sends(q Request, r *Report) ([]Found, error) {
	a, err := o.Sites(SiteOptions{HeaderSize: r.HeaderSize, PageSize: q.PageSize, Headers: q.Headers})
	if err != nil {
		return nil, fmt.Errorf("code: %w", err)
	}
	r.Sites, r.Warnings = a.Sites, a.Warnings
	if len(a.Sites) > 0 {
		return a.Sent, nil
	}
	r.Warnings = append(r.Warnings, Warning{Object: o.Path, Message: NoSends, Info: true})
	return o.All(true)
}

// Merge combines the reports of several inputs into one document.
func Merge(hdr uint64, parts []*Report) *Report {
	if len(parts) == 1 && parts[0] != nil && parts[0].Version == ReportVersion && parts[0].HeaderSize == hdr {
		// One input: its report is the document, without copying the
		// thousands of types of a kernel's.
		parts[0].Normalize()
		return parts[0]
	}
	r := &Report{Version: ReportVersion, HeaderSize: hdr}
	for _, p := range parts {
		if p == nil {
			continue
		}
		r.Sites = append(r.Sites, p.Sites...)
		r.Types = append(r.Types, p.Types...)
		r.Warnings = append(r.Warnings, p.Warnings...)
		r.Target = mergeTargets(r.Target, p.Target)
	}
	r.Normalize()
	return r
}

// mergeTargets combines the host checks of several objects against one target.
func mergeTargets(a, b *Target) *Target {
	if a == nil || b == nil {
		if a == nil {
			return b
		}
		return a
	}
	m := *a
	m.MissingHelpers = slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(a.MissingHelpers), b.MissingHelpers...))))
	m.Drift = append(slices.Clone(a.Drift), b.Drift...)
	slices.SortStableFunc(m.Drift, func(x, y Drift) int { return cmpKeys(x.Type, y.Type) })
	m.Drift = slices.CompactFunc(m.Drift, func(x, y Drift) bool { return x.Type == y.Type && x.Size == y.Size })
	return &m
}
