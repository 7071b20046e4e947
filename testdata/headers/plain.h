/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Event definitions that need no system headers: fixed-width types come
 * from local typedefs.
 */
#ifndef BTFSIZE_TESTDATA_PLAIN_H
#define BTFSIZE_TESTDATA_PLAIN_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef int s32;

/* 24 bytes: 3-byte hole after kind, 4 bytes of tail padding. */
struct plain_event {
	u64 ts;
	u8 kind;
	u32 pid;
	u32 tid;
};

/* 12 bytes, no holes. */
struct plain_point {
	u32 x;
	u32 y;
	u32 z;
};

/* 40 bytes: 7-byte hole after flag, 4 bytes of tail padding. */
struct plain_sample {
	u8 flag;
	u64 value;
	struct plain_point where;
	s32 delta;
	u32 count;
};

typedef struct plain_event plain_event_t;

#endif /* BTFSIZE_TESTDATA_PLAIN_H */
