// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Fixture for btfsize diff: one source built twice, the second time with
 * -DSLIM, as a pull request would change it.
 *
 *   event-old.elf: clang -target bpfel -O2 -g -c event.c
 *   event-new.elf: clang -target bpfel -O2 -g -c -DSLIM event.c
 *
 * What SLIM changes, and what btfsize diff must say about it:
 *
 *  - handle_exec:   struct event shrinks from 128 to 112 bytes: the record
 *                   goes from 136 to 120 bytes, it saves 16 bytes per record.
 *  - handle_note:   struct note shrinks from 39 to 38 bytes: both records
 *                   are 48 bytes, it saves nothing.
 *  - handle_alert:  struct alert does not change.
 *  - handle_sample: a constant 64-byte send becomes a length bounded by
 *                   "& 63": the size is now dynamic, its record still at
 *                   most 72 bytes.
 *  - handle_legacy: removed (struct legacy_event).
 *  - handle_fork:   added (struct fork_event).
 *
 * Diffing the objects the other way round (new, then old) grows
 * handle_exec by 16 bytes per record.
 */
#include "../include/bpf_defs.h"

#ifdef SLIM
#define FILENAME_LEN 80
#define NOTE_LEN 37
#else
#define FILENAME_LEN 96
#define NOTE_LEN 38
#endif

/* 128 bytes, or 112 with SLIM; no holes either way. */
struct event {
	__u64 ts;
	__u32 pid;
	__u32 tgid;
	char comm[16];
	char filename[FILENAME_LEN];
};

/* 39 bytes, or 38 with SLIM: byte-aligned, so the record is 48 either way. */
struct note {
	__u8 kind;
	char text[NOTE_LEN];
};

/* 24 bytes in both builds. */
struct alert {
	__u64 ts;
	__u32 pid;
	__u32 code;
	__u64 addr;
};

/* 64 bytes in both builds. */
struct sample {
	__u64 ts;
	__u32 pid;
	__u32 len;
	char data[48];
};

#ifndef SLIM
/* 32 bytes; gone with SLIM. */
struct legacy_event {
	__u64 ts;
	__u32 pid;
	__u32 flags;
	__u64 arg[2];
};
#else
/* 16 bytes; new with SLIM. */
struct fork_event {
	__u32 parent;
	__u32 child;
	__u64 ts;
};
#endif

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
	__type(value, struct sample);
} samples SEC(".maps");

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
	bpf_probe_read_kernel(&e->filename, sizeof(e->filename), ctx);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp/syscalls/sys_enter_write")
int handle_note(void *ctx)
{
	struct note *n;

	n = bpf_ringbuf_reserve(&events, sizeof(*n), 0);
	if (!n)
		return 0;

	n->kind = 1;
	bpf_probe_read_kernel(&n->text, sizeof(n->text), ctx);
	bpf_ringbuf_submit(n, 0);
	return 0;
}

SEC("tp/sock/inet_sock_set_state")
int handle_alert(void *ctx)
{
	struct alert *a;

	a = bpf_ringbuf_reserve(&alerts, sizeof(struct alert), 0);
	if (!a)
		return 0;

	a->ts = bpf_ktime_get_ns();
	a->pid = bpf_get_current_pid_tgid() >> 32;
	a->code = 0;
	a->addr = 0;
	bpf_ringbuf_submit(a, 0);
	return 0;
}

SEC("tp/syscalls/sys_enter_read")
int handle_sample(void *ctx)
{
	__u32 zero = 0;
	struct sample *s;

	s = bpf_map_lookup_elem(&samples, &zero);
	if (!s)
		return 0;

	s->ts = bpf_ktime_get_ns();
	s->len = bpf_get_current_pid_tgid();
	bpf_probe_read_kernel(&s->data, sizeof(s->data), ctx);
#ifdef SLIM
	bpf_ringbuf_output(&events, s, s->len & 63, 0);
#else
	bpf_ringbuf_output(&events, s, sizeof(*s), 0);
#endif
	return 0;
}

#ifndef SLIM
SEC("tp/sched/sched_process_exit")
int handle_legacy(void *ctx)
{
	struct legacy_event *l;

	l = bpf_ringbuf_reserve(&events, sizeof(*l), 0);
	if (!l)
		return 0;

	l->ts = bpf_ktime_get_ns();
	l->pid = bpf_get_current_pid_tgid() >> 32;
	l->flags = 0;
	l->arg[0] = l->arg[1] = 0;
	bpf_ringbuf_submit(l, 0);
	return 0;
}
#else
SEC("tp/sched/sched_process_fork")
int handle_fork(void *ctx)
{
	struct fork_event *f;

	f = bpf_ringbuf_reserve(&events, sizeof(*f), 0);
	if (!f)
		return 0;

	f->parent = bpf_get_current_pid_tgid() >> 32;
	f->child = 0;
	f->ts = bpf_ktime_get_ns();
	bpf_ringbuf_submit(f, 0);
	return 0;
}
#endif

char LICENSE[] SEC("license") = "Dual BSD/GPL";
