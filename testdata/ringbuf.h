/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Events of ringbuf.c, shared with user space the way real projects share
 * an events.h: `btfsize --header testdata/ringbuf.h` names the sends of the
 * stripped objects, whose BTF lacks the types used only as locals.
 */
#ifndef BTFSIZE_TESTDATA_RINGBUF_H
#define BTFSIZE_TESTDATA_RINGBUF_H

#include "include/bpf_defs.h"

#define TASK_COMM_LEN 16
#define MAX_FILENAME_LEN 80
#define BIG_PAYLOAD_LEN 584

/* 112 bytes, no holes. */
struct event {
	__u64 ts;
	__u32 pid;
	__u32 tgid;
	char comm[TASK_COMM_LEN];
	char filename[MAX_FILENAME_LEN];
};

/* 40 bytes, no holes; only reachable through its typedef. */
typedef struct {
	__u64 ts;
	__u64 duration_ns;
	__u32 pid;
	__s32 exit_code;
	char comm[TASK_COMM_LEN];
} exit_event_t;

/* 32 bytes: 7-byte hole after kind, 2-byte hole after port, 7 bytes of tail padding. */
struct alert {
	__u8 kind;
	__u64 ts;
	__u16 port;
	__u32 addr;
	__u8 flag;
};

/* 600 bytes: larger than the BPF stack allows. */
struct big_event {
	__u64 ts;
	__u32 pid;
	__u32 len;
	char payload[BIG_PAYLOAD_LEN];
};

#endif /* BTFSIZE_TESTDATA_RINGBUF_H */
