/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel types and helpers nf_ftp_parse.c uses, so that the same
 * source builds in the module and in the user-space tests and fuzzer.
 */
#ifndef _NF_FTP_SHIM_H
#define _NF_FTP_SHIM_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/string.h>
#include <linux/kernel.h>
#include <linux/bitops.h>

#define nf_ftp_popcount64(x)	hweight64(x)
#define nf_ftp_ctz64(x)		__ffs64(x)
#define nf_ftp_clz64(x)		(64 - fls64(x))
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef uint32_t __be32;

#define nf_ftp_popcount64(x)	((unsigned int)__builtin_popcountll(x))
#define nf_ftp_ctz64(x)		((unsigned int)__builtin_ctzll(x))
#define nf_ftp_clz64(x)		((unsigned int)__builtin_clzll(x))

#define cpu_to_be32(x)	htonl(x)
#define be32_to_cpu(x)	ntohl(x)
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#endif /* __KERNEL__ */

#endif /* _NF_FTP_SHIM_H */
