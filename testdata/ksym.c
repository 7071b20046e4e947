// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fixture: a typed __ksym extern next to an ordinary ring buffer send.
 *
 * The extern is resolved against the running kernel's BTF at load time;
 * loaders without ksym support reject the object as a whole, so tools must
 * still be able to report the ring buffer call in ksym_probe from the ELF
 * alone.
 */
#include "bpf_defs.h"

/* Minimal local view of the kernel's per-CPU run queue. */
struct rq {
	int cpu;
};

extern const struct rq runqueues __ksym;

/* 24 bytes: 4 bytes of tail padding. */
struct rq_event {
	__u64 ts;
	__u64 rq_addr;
	__s32 cpu;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 4096);
} rq_events SEC(".maps");

SEC("tp/sched/sched_switch")
int ksym_probe(void *ctx)
{
	struct rq_event *e;

	e = bpf_ringbuf_reserve(&rq_events, sizeof(*e), 0);
	if (!e)
		return 0;

	e->ts = bpf_ktime_get_ns();
	e->rq_addr = (__u64)&runqueues;
	if (bpf_probe_read_kernel(&e->cpu, sizeof(e->cpu), &runqueues.cpu) < 0)
		e->cpu = -1;

	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
