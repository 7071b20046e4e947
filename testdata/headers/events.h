/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Event definitions shared between BPF programs and their user space
 * readers, in the shape projects usually keep them. Parsed by btfsize from
 * source (not compiled by the Makefile), so it may use system headers.
 */
#ifndef BTFSIZE_TESTDATA_EVENTS_H
#define BTFSIZE_TESTDATA_EVENTS_H

#include <linux/types.h>

#define TASK_COMM_LEN 16
#define MAX_PATH_LEN 64
#define MAX_STACK_DEPTH 8

typedef __u32 pid_t_compat;
typedef __u64 timestamp_t;

enum event_type {
	EVENT_EXEC = 1,
	EVENT_EXIT = 2,
	EVENT_OPEN = 3,
	EVENT_NET = 4,
};

/* 1-byte enum. */
enum net_dir {
	NET_DIR_IN = 0,
	NET_DIR_OUT = 1,
} __attribute__((packed));

/* 8-byte enum. */
enum capability_mask {
	CAP_MASK_NONE = 0,
	CAP_MASK_HIGH = 0x8000000000000000ULL,
};

/* Common header, 16 bytes. */
struct event_header {
	timestamp_t ts;
	pid_t_compat pid;
	enum event_type type;
};

/* Anonymous struct and union members, 3-byte hole after dir. */
struct net_event {
	struct event_header hdr;
	enum net_dir dir;
	union {
		__u32 v4;
		__u8 v6[16];
	};
	struct {
		__u16 sport;
		__u16 dport;
	};
	__u8 proto;
};

/* Typedef of an anonymous struct; bitfields with a bit hole. */
typedef struct {
	struct event_header hdr;
	__u32 flags:12;
	__u32 mode:9;
	__u32 is_dir:1;
	__u32 trunc:14;		/* starts a new unit: 10-bit hole */
	__s32 ret;
	char comm[TASK_COMM_LEN];
	char path[MAX_PATH_LEN];
} open_event_t;

/* Packed wire header, 13 bytes. */
struct wire_hdr {
	__u8 version;
	__u32 len;
	__u64 seq;
} __attribute__((packed));

/* 16-byte aligned member. */
struct crypto_event {
	struct event_header hdr;
	__u8 algo;
	__u8 key[32] __attribute__((aligned(16)));
	__u32 key_len;
};

/* Flexible array member. */
struct exec_event {
	struct event_header hdr;
	__u32 argc;
	__u16 args_len;
	char args[];
};

/* Nested arrays. */
struct stack_event {
	struct event_header hdr;
	__u64 kstack[MAX_STACK_DEPTH];
	__u32 ustack[2][MAX_STACK_DEPTH];
	__u8 depth;
};

/* A tagged union with a typedef'd payload. */
typedef union {
	struct net_event net;
	open_event_t open;
	struct stack_event stack;
} any_event_t;

struct envelope {
	enum capability_mask caps;
	__u8 kind;
	any_event_t ev;
};

#endif /* BTFSIZE_TESTDATA_EVENTS_H */
