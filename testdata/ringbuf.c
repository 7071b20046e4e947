// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fixture: the common ring buffer patterns.
 *
 *  - handle_exec:    bpf_ringbuf_reserve(&events, sizeof(*e), 0) on a map
 *                    that declares no value type (the type comes from the
 *                    pointer the reservation is assigned to).
 *  - handle_exit:    a typedef'd anonymous struct built on the stack and
 *                    copied with bpf_ringbuf_output.
 *  - handle_alert:   reservation of sizeof(struct alert) on a map that does
 *                    declare __type(value, struct alert); the struct has
 *                    holes and tail padding.
 *  - handle_scratch: a struct too large for the 512-byte stack, taken from a
 *                    per-CPU array and copied with bpf_ringbuf_output.
 */
#include "bpf_defs.h"
#include "ringbuf.h"

/* No __type(value, ...): the record type is only known from the call site. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
	__type(value, struct alert);
} alerts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct big_event);
} heap SEC(".maps");

SEC("tp/sched/sched_process_exec")
int handle_exec(void *ctx)
{
	struct event *e;
	__u64 id = bpf_get_current_pid_tgid();

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;

	e->ts = bpf_ktime_get_ns();
	e->pid = (__u32)id;
	e->tgid = id >> 32;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	if (bpf_probe_read_kernel(&e->filename, sizeof(e->filename), ctx) < 0) {
		bpf_ringbuf_discard(e, 0);
		return 0;
	}

	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp/sched/sched_process_exit")
int handle_exit(void *ctx)
{
	exit_event_t ev = {};
	__u64 id = bpf_get_current_pid_tgid();

	ev.ts = bpf_ktime_get_ns();
	ev.pid = id >> 32;
	if (bpf_probe_read_kernel(&ev.exit_code, sizeof(ev.exit_code), ctx) < 0)
		ev.exit_code = -1;
	bpf_get_current_comm(&ev.comm, sizeof(ev.comm));

	bpf_ringbuf_output(&events, &ev, sizeof(ev), 0);
	return 0;
}

SEC("tp/sock/inet_sock_set_state")
int handle_alert(void *ctx)
{
	struct alert *a;

	a = bpf_ringbuf_reserve(&alerts, sizeof(struct alert), 0);
	if (!a)
		return 0;

	a->kind = 1;
	a->ts = bpf_ktime_get_ns();
	a->port = 443;
	if (bpf_probe_read_kernel(&a->addr, sizeof(a->addr), ctx) < 0)
		a->addr = 0;
	a->flag = 0;

	bpf_ringbuf_submit(a, 0);
	return 0;
}

SEC("tp/syscalls/sys_enter_write")
int handle_scratch(void *ctx)
{
	__u32 zero = 0;
	struct big_event *ev;

	ev = bpf_map_lookup_elem(&heap, &zero);
	if (!ev)
		return 0;

	ev->ts = bpf_ktime_get_ns();
	ev->pid = bpf_get_current_pid_tgid() >> 32;
	ev->len = BIG_PAYLOAD_LEN;
	bpf_probe_read_kernel(&ev->payload, sizeof(ev->payload), ctx);

	bpf_ringbuf_output(&events, ev, sizeof(*ev), 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
