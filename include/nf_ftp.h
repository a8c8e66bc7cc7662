/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interface between nf_conntrack_ftp.ko and nf_nat_ftp.ko.
 *
 * The conntrack helper finds the address/port text in PORT, EPRT, 227 and
 * 229 lines and sets up the expectation; when the control connection is
 * NATed it calls the NAT module through nf_ftp_nat_hook to rewrite that
 * text and to register the expectation on a port it chooses.
 */
#ifndef _NF_FTP_H
#define _NF_FTP_H

#include <linux/skbuff.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_expect.h>

#include "nf_ftp_parse.h"

/**
 * enum nf_ftp_stat - per network namespace counters
 * @NF_FTP_STAT_LINES: complete control lines examined
 * @NF_FTP_STAT_EXPECTED: expectations created
 * @NF_FTP_STAT_NAT_REWRITES: lines rewritten by the NAT helper
 * @NF_FTP_STAT_PARTIAL: unfinished lines carried to a later segment
 * @NF_FTP_STAT_TLS_SESSIONS: AUTH TLS/SSL accepted by the server (234)
 * @NF_FTP_STAT_TLS_SKIPPED: encrypted segments not parsed
 * @NF_FTP_STAT_GAPS: sequence gaps that forced a resynchronisation
 * @NF_FTP_STAT_HELD_BACK: under NAT, segments that ended early (or went
 *	on empty) because they carried the start of an unfinished line
 *	that may need rewriting; its sender sends those bytes again
 * @NF_FTP_STAT_JOINED: such lines that went out whole, rewritten, in the
 *	segment that completed them
 * @NF_FTP_STAT_REPLAYED: retransmissions that got a rewritten line again
 * @NF_FTP_STAT_UNREWRITTEN: under NAT, lines that went on unrewritten
 *	although they might have needed it (NAT module gone, no memory, a
 *	packet that could not be changed, a sender stuck, ...)
 * @NF_FTP_STAT_DEFERRED: rewritten lines left to the sender's next copy
 *	because the packet would have exceeded the path MTU
 * @NF_FTP_STAT_ALLOC_FAILED: per-connection memory refused (allocator,
 *	max_memory_kb or fault_alloc)
 * @NF_FTP_STAT_RECLAIMED: buffers freed because their connection lost
 *	the helper without ->destroy (ctnetlink detach) or went away
 * @NF_FTP_STAT_PICKUPS: connections injected or updated through
 *	ctnetlink (conntrackd after a failover) whose stream was picked up
 *	mid-way
 * @NF_FTP_STAT_NAT_KEPT: rewrites whose data port nf_nat_ftp picked to
 *	keep the line's length (its keep_length parameter)
 * @NF_FTP_STAT_REFUSED: first of __NF_FTP_R_MAX counters, one per
 *	&enum nf_ftp_reason, for lines that named a data address but
 *	opened no expectation (index 0, NF_FTP_R_OK, is unused)
 * @__NF_FTP_STAT_MAX: number of counters
 */
enum nf_ftp_stat {
	NF_FTP_STAT_LINES,
	NF_FTP_STAT_EXPECTED,
	NF_FTP_STAT_NAT_REWRITES,
	NF_FTP_STAT_PARTIAL,
	NF_FTP_STAT_TLS_SESSIONS,
	NF_FTP_STAT_TLS_SKIPPED,
	NF_FTP_STAT_GAPS,
	NF_FTP_STAT_HELD_BACK,
	NF_FTP_STAT_JOINED,
	NF_FTP_STAT_REPLAYED,
	NF_FTP_STAT_UNREWRITTEN,
	NF_FTP_STAT_DEFERRED,
	NF_FTP_STAT_ALLOC_FAILED,
	NF_FTP_STAT_RECLAIMED,
	NF_FTP_STAT_PICKUPS,
	NF_FTP_STAT_NAT_KEPT,
	NF_FTP_STAT_REFUSED,
	__NF_FTP_STAT_MAX = NF_FTP_STAT_REFUSED + __NF_FTP_R_MAX,
};

/**
 * nf_ftp_stat_inc - bump a counter of the namespace a conntrack lives in
 * @net: the conntrack's network namespace
 * @stat: which counter
 *
 * Lock-free (per-CPU); callable from any context.
 */
void nf_ftp_stat_inc(struct net *net, enum nf_ftp_stat stat);

/*
 * Room for the address text the NAT module writes in place of what a
 * match covered: "|2|" + IPv6 text (45) + "|65535|" fits.
 */
#define NF_FTP_ADDR_TEXT_MAX	64

/**
 * struct nf_ftp_nat_ops - what nf_nat_ftp.ko does for the conntrack helper
 * @expect: for a line announcing @m (@delim: its EPRT/229 delimiter),
 *	make @exp (initialised by the caller) follow the master's NAT, pick
 *	its port on the NAT address, register it, and write the address
 *	text that replaces what @m matched into @buf (@size bytes, no NUL
 *	needed).  Returns the text's length, or a negative errno with
 *	nothing registered.
 * @mangle: replace @len bytes of the TCP payload at @off with @text
 *	(@tlen bytes), fixing lengths and checksums.  Records no sequence
 *	adjustment: the caller does, through nf_ct_seqadj_set(), for what
 *	changes the stream.  Returns false if the packet cannot be changed.
 *
 * The conntrack helper composes the line and decides where it goes; the
 * NAT module owns everything that needs nf_nat.  Set while nf_nat_ftp is
 * loaded, read under RCU.
 */
struct nf_ftp_nat_ops {
	int (*expect)(struct nf_conn *ct, enum ip_conntrack_info ctinfo,
		      struct nf_conntrack_expect *exp,
		      const struct nf_ftp_match *m, char delim,
		      char *buf, unsigned int size);
	bool (*mangle)(struct sk_buff *skb, struct nf_conn *ct,
		       enum ip_conntrack_info ctinfo, unsigned int protoff,
		       unsigned int off, unsigned int len,
		       const char *text, unsigned int tlen);
};

extern const struct nf_ftp_nat_ops __rcu *nf_ftp_nat_hook;

#endif /* _NF_FTP_H */
