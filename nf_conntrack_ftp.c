// SPDX-License-Identifier: GPL-2.0
/*
 * FTP connection tracking helper.
 *
 * Follows the control channel of FTP sessions (RFC 959, RFC 2428) and
 * sets up one expectation for each data connection announced with PORT,
 * EPRT, 227 or 229, so that the data connection is RELATED to the control
 * connection.  When the control connection is NATed, nf_nat_ftp.ko
 * rewrites the announced address through nf_ftp_nat_hook.
 *
 * Compared with the in-tree helper this one examines every line of every
 * segment, follows lines split across segments, never drops a packet for
 * a partial match, refuses data ports below min_port and passive replies
 * nobody asked for, stops parsing once the channel is encrypted, keeps
 * all of its state in the connection (no global lock, no global buffer)
 * and counts what it does per network namespace in
 * /proc/net/nf_conntrack_ftp.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/netfilter.h>
#include <linux/percpu.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/seq_file_net.h>
#include <linux/slab.h>
#include <linux/tcp.h>
#include <linux/bit_spinlock.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_expect.h>
#include <net/netfilter/nf_conntrack_helper.h>
#include <net/netfilter/nf_conntrack_seqadj.h>

#include "compat.h"
#include "nf_ftp.h"

/*
 * The parser is kernel-independent C shared with the user-space unit
 * tests and fuzzer.  It is built into this translation unit so that the
 * module keeps the in-tree name, nf_conntrack_ftp.ko.
 */
#include "nf_ftp_parse.c"

MODULE_LICENSE("GPL");
MODULE_VERSION(NF_FTP_VERSION);
MODULE_DESCRIPTION("FTP connection tracking helper (segment-aware, hardened)");
MODULE_ALIAS("ip_conntrack_ftp");
MODULE_ALIAS_NFCT_HELPER("ftp");

#define FTP_PORT	21
#define FTP_MAX_PORTS	8

static u16 ports[FTP_MAX_PORTS];
static unsigned int ports_c;
module_param_array(ports, ushort, &ports_c, 0400);
MODULE_PARM_DESC(ports,
		 "FTP server ports to help, up to 8 (default 21); helper names are ftp for 21, ftp-<port> otherwise");

static bool loose;
module_param(loose, bool, 0600);
MODULE_PARM_DESC(loose,
		 "expect data connections to addresses other than the sender's (FXP, third-party transfers); default off");

static unsigned short min_port = 1024;
module_param(min_port, ushort, 0644);
MODULE_PARM_DESC(min_port,
		 "lowest data port an expectation may open; lower ports in PORT, EPRT, 227 and 229 are refused (default 1024)");

static bool pairing = true;
module_param(pairing, bool, 0644);
MODULE_PARM_DESC(pairing,
		 "accept 227 only after the client's PASV and 229 only after EPSV (default on)");

/*
 * Bytes of one direction that came ahead of a gap, [seq, seq + len),
 * kept until the gap is filled (see ftp_stash()).
 */
struct nf_ftp_ooo {
	u32 seq;
	u16 len;
	char buf[NF_FTP_LINE_MAX];
};

/*
 * Under NAT, a line that was held back and went out rewritten in the
 * segment at @seq (the sender's number), kept until the receiver has
 * acknowledged it, @end in its numbering: if that segment is lost after
 * us, its retransmission carries only the line's last part, and the line
 * is written into it again from @text (see ftp_replay_held()).
 * @seglen: the sender's payload length of that segment
 * @len: the line's length, terminator excluded; @text also holds the
 * terminator's bytes that came before @seq, if any
 * @pos, @before, @after: the sequence record set when the line went out;
 * @pos is the sender's number of the line's first byte
 */
struct nf_ftp_rep {
	u32 seq;
	u32 end;
	u32 pos;
	s32 before;
	s32 after;
	u16 seglen;
	u16 len;
	char text[NF_FTP_LINE_MAX];
};

/*
 * Lines held across segments; allocated only while a line is unfinished,
 * bytes wait behind a gap, or a rewritten line waits for its
 * acknowledgement.
 * @base: under NAT, the sequence offset at the first byte of a line held
 * back from the stream (see ftp_seqadj_hold())
 * @ooo: bytes waiting behind a gap, per direction, or NULL
 * @rep: a rewritten held line not yet acknowledged, per direction, or NULL
 */
struct nf_ftp_held {
	char buf[2][NF_FTP_LINE_MAX];
	s32 base[2];
	struct nf_ftp_ooo *ooo[2];
	struct nf_ftp_rep *rep[2];
};

/*
 * Per-connection state in nf_conn_help->data (32 bytes).
 * @held: struct nf_ftp_held pointer; bit 0 is the connection's lock
 * @next_seq: next sequence number expected, per direction
 * @replay_seq: sequence number of the last segment whose line was NATed
 * @st: the parser's state
 */
struct nf_ftp_ct {
	unsigned long held;
	u32 next_seq[2];
	u32 replay_seq[2];
	struct nf_ftp_state st;
};

#define FTP_LOCK_BIT		0
/* Our bits in st.flags, above the parser's. */
#define FTP_F_SEQ(dir)		(0x0100 << (dir))	/* next_seq[dir] valid */
#define FTP_F_REPLAY(dir)	(0x0400 << (dir))	/* replay_seq[dir] valid */
#define FTP_F_STRIP(dir)	(0x1000 << (dir))	/* held bytes not sent on */

/*
 * Under NAT, the start of a line that may need rewriting is held back
 * from the stream until the line is complete; longer lines cannot be
 * PORT, EPRT, 227 or 229 anyway and are passed on as they come.
 */
#define FTP_STRIP_MAX		256

static const struct nf_conntrack_expect_policy ftp_exp_policy = {
	.max_expected	= 1,
	.timeout	= 5 * 60,
	.name		= "ftp",
};

static struct nf_conntrack_helper ftp_helpers[FTP_MAX_PORTS * 2];
static unsigned int ftp_nr_helpers;
/* Set at module exit: no new hold buffers from then on. */
static bool ftp_exiting;

nf_ftp_nat_fn __rcu *nf_ftp_nat_hook __read_mostly;
EXPORT_SYMBOL_GPL(nf_ftp_nat_hook);

/* Counters, per network namespace and per CPU. */
struct nf_ftp_stats {
	u64 cnt[__NF_FTP_STAT_MAX];
};

struct nf_ftp_net {
	struct nf_ftp_stats __percpu *stats;
};

static unsigned int nf_ftp_net_id __read_mostly;

static const char * const ftp_stat_names[__NF_FTP_STAT_MAX] = {
	[NF_FTP_STAT_LINES]		= "lines_examined",
	[NF_FTP_STAT_EXPECTED]		= "expectations_created",
	[NF_FTP_STAT_NAT_REWRITES]	= "nat_rewrites",
	[NF_FTP_STAT_PARTIAL]		= "partial_lines_carried",
	[NF_FTP_STAT_TLS_SESSIONS]	= "tls_sessions",
	[NF_FTP_STAT_TLS_SKIPPED]	= "tls_segments_skipped",
	[NF_FTP_STAT_GAPS]		= "sequence_gaps",
	[NF_FTP_STAT_REFUSED + NF_FTP_R_SYNTAX]	     = "refused_syntax",
	[NF_FTP_STAT_REFUSED + NF_FTP_R_NUMBER]	     = "refused_bad_number",
	[NF_FTP_STAT_REFUSED + NF_FTP_R_FAMILY]	     = "refused_family",
	[NF_FTP_STAT_REFUSED + NF_FTP_R_THIRD_PARTY] = "refused_third_party",
	[NF_FTP_STAT_REFUSED + NF_FTP_R_LOW_PORT]    = "refused_low_port",
	[NF_FTP_STAT_REFUSED + NF_FTP_R_UNPAIRED]    = "refused_unpaired",
	[NF_FTP_STAT_REFUSED + NF_FTP_R_OVERFLOW]    = "refused_overflow",
	[NF_FTP_STAT_REFUSED + NF_FTP_R_EXPECT]	     = "refused_expect_failed",
};

static const char * const ftp_reason_text[__NF_FTP_R_MAX] = {
	[NF_FTP_R_OK]		= "ok",
	[NF_FTP_R_SYNTAX]	= "malformed argument",
	[NF_FTP_R_NUMBER]	= "number out of range",
	[NF_FTP_R_FAMILY]	= "address family differs from the connection's",
	[NF_FTP_R_THIRD_PARTY]	= "third-party address (loose=0)",
	[NF_FTP_R_LOW_PORT]	= "data port below min_port",
	[NF_FTP_R_UNPAIRED]	= "reply without PASV/EPSV (pairing=1)",
	[NF_FTP_R_OVERFLOW]	= "line too long",
	[NF_FTP_R_EXPECT]	= "expectation could not be set up",
};

static const char * const ftp_kind_text[__NF_FTP_K_MAX] = {
	[NF_FTP_K_NONE]	= "line",
	[NF_FTP_K_PORT]	= "PORT",
	[NF_FTP_K_EPRT]	= "EPRT",
	[NF_FTP_K_227]	= "227",
	[NF_FTP_K_229]	= "229",
	[NF_FTP_K_PASV]	= "PASV",
	[NF_FTP_K_EPSV]	= "EPSV",
	[NF_FTP_K_AUTH]	= "AUTH",
	[NF_FTP_K_234]	= "234",
};

void nf_ftp_stat_inc(struct net *net, enum nf_ftp_stat stat)
{
	struct nf_ftp_net *fn = net_generic(net, nf_ftp_net_id);

	this_cpu_inc(fn->stats->cnt[stat]);
}
EXPORT_SYMBOL_GPL(nf_ftp_stat_inc);

static void ftp_stat_add(struct net *net, enum nf_ftp_stat stat,
			 unsigned int n)
{
	struct nf_ftp_net *fn = net_generic(net, nf_ftp_net_id);

	this_cpu_add(fn->stats->cnt[stat], n);
}

static int ftp_stats_show(struct seq_file *seq, void *v)
{
	struct nf_ftp_net *fn = net_generic(seq_file_single_net(seq),
					    nf_ftp_net_id);
	unsigned int i;
	int cpu;

	for (i = 0; i < __NF_FTP_STAT_MAX; i++) {
		u64 sum = 0;

		if (!ftp_stat_names[i])
			continue;
		for_each_possible_cpu(cpu)
			sum += per_cpu_ptr(fn->stats, cpu)->cnt[i];
		seq_printf(seq, "%-24s %llu\n", ftp_stat_names[i], sum);
	}
	return 0;
}

/* The connection lock: bit 0 of fc->held, taken with BHs off. */
static struct nf_ftp_ct *ftp_lock(struct nf_conn *ct)
	__acquires(bitlock)
{
	struct nf_ftp_ct *fc = nfct_help_data(ct);

	local_bh_disable();
	bit_spin_lock(FTP_LOCK_BIT, &fc->held);
	return fc;
}

static void ftp_unlock(struct nf_ftp_ct *fc)
	__releases(bitlock)
{
	bit_spin_unlock(FTP_LOCK_BIT, &fc->held);
	local_bh_enable();
}

static struct nf_ftp_held *ftp_held(const struct nf_ftp_ct *fc)
{
	return (struct nf_ftp_held *)(fc->held & ~BIT(FTP_LOCK_BIT));
}

/* Caller holds the lock, so bit 0 is set and stays set. */
static void ftp_set_held(struct nf_ftp_ct *fc, struct nf_ftp_held *h)
{
	fc->held = (unsigned long)h | BIT(FTP_LOCK_BIT);
}

static void ftp_free_bufs(struct nf_ftp_held *h)
{
	if (h) {
		kfree(h->ooo[0]);
		kfree(h->ooo[1]);
		kfree(h->rep[0]);
		kfree(h->rep[1]);
		kfree(h);
	}
}

/* Free the hold buffer; whatever it held must be given up already. */
static void ftp_drop_held(struct nf_ftp_ct *fc)
{
	ftp_free_bufs(ftp_held(fc));
	ftp_set_held(fc, NULL);
}

/* The hold buffer, allocated if there is none yet; NULL if that fails. */
static struct nf_ftp_held *ftp_get_held(struct nf_ftp_ct *fc)
{
	struct nf_ftp_held *h = ftp_held(fc);

	if (h || READ_ONCE(ftp_exiting))
		return h;
	h = kmalloc(sizeof(*h), GFP_ATOMIC);
	if (h) {
		h->ooo[0] = NULL;
		h->ooo[1] = NULL;
		h->rep[0] = NULL;
		h->rep[1] = NULL;
		ftp_set_held(fc, h);
	}
	return h;
}

/* Forget the bytes of @dir waiting behind a gap, if any. */
static void ftp_unstash(struct nf_ftp_ct *fc, enum nf_ftp_dir dir)
{
	struct nf_ftp_held *h = ftp_held(fc);

	if (h && h->ooo[dir]) {
		kfree(h->ooo[dir]);
		h->ooo[dir] = NULL;
	}
}

/* Does @dir keep bytes in the hold buffer (not just count them)? */
static bool ftp_buffered(const struct nf_ftp_ct *fc, enum nf_ftp_dir dir)
{
	return fc->st.held[dir] && !(fc->st.flags & NF_FTP_F_IGNORE(dir));
}

static enum nf_ftp_dir ftp_dir(enum ip_conntrack_info ctinfo)
{
	return CTINFO2DIR(ctinfo) == IP_CT_DIR_ORIGINAL ? NF_FTP_CLIENT
							: NF_FTP_SERVER;
}

static u8 ftp_family(const struct nf_conn *ct)
{
	return nf_ct_l3num(ct) == NFPROTO_IPV4 ? NF_FTP_AF_INET
					       : NF_FTP_AF_INET6;
}

static void ftp_addr_from_inet(union nf_ftp_addr *a,
			       const union nf_inet_addr *in)
{
	memcpy(a->ip6, in->ip6, sizeof(a->ip6));
}

static bool ftp_match_is_addr(const struct nf_ftp_match *m,
			      const union nf_inet_addr *in)
{
	if (m->family == NF_FTP_AF_INET)
		return m->addr.ip == in->ip;
	return !memcmp(m->addr.ip6, in->ip6, sizeof(m->addr.ip6));
}

static void ftp_log(const struct nf_conn *ct, const char *what,
		    const struct nf_ftp_match *m)
{
	const struct nf_conntrack_helper *helper;
	const struct nf_conn_help *help;

	if (!net_ratelimit())
		return;
	help = nfct_help(ct);
	helper = help ? rcu_dereference(help->helper) : NULL;
	if (m->family == NF_FTP_AF_INET)
		pr_info("%s: %s %s %pI4 port %u: %s\n",
			helper ? helper->name : "ftp", what,
			ftp_kind_text[m->kind], &m->addr.ip, m->port,
			ftp_reason_text[m->reason]);
	else if (m->family == NF_FTP_AF_INET6)
		pr_info("%s: %s %s %pI6c port %u: %s\n",
			helper ? helper->name : "ftp", what,
			ftp_kind_text[m->kind], m->addr.ip6, m->port,
			ftp_reason_text[m->reason]);
	else
		pr_info("%s: %s %s: %s\n", helper ? helper->name : "ftp",
			what, ftp_kind_text[m->kind],
			ftp_reason_text[m->reason]);
}

static void ftp_refuse(struct nf_conn *ct, struct nf_ftp_match *m,
		       enum nf_ftp_reason reason)
{
	m->reason = reason;
	nf_ftp_stat_inc(nf_ct_net(ct), NF_FTP_STAT_REFUSED + reason);
	ftp_log(ct, "no expectation for", m);
}

static nf_ftp_nat_fn *ftp_nat(const struct nf_conn *ct)
{
	if (!(ct->status & IPS_NAT_MASK))
		return NULL;
	return rcu_dereference(nf_ftp_nat_hook);
}

/* Could a line starting with @text be one the NAT helper rewrites? */
static bool ftp_may_rewrite(enum nf_ftp_dir dir, const char *text,
			    unsigned int len)
{
	static const char * const verbs[2][2] = {
		[NF_FTP_CLIENT] = { "PORT", "EPRT" },
		[NF_FTP_SERVER] = { "227 ", "229 " },
	};
	unsigned int i, j;

	len = min(len, 4U);
	for (i = 0; i < 2; i++) {
		for (j = 0; j < len; j++)
			if ((text[j] & ~0x20) != (verbs[dir][i][j] & ~0x20))
				break;
		if (j == len)
			return true;
	}
	return false;
}

/* Replace @len bytes of the payload at @off with @text, through NAT. */
static bool ftp_splice(struct sk_buff *skb, unsigned int protoff,
		       struct nf_conn *ct, enum ip_conntrack_info ctinfo,
		       unsigned int off, unsigned int len, const char *text,
		       unsigned int tlen, int *delta)
{
	struct nf_ftp_nat_req req = {
		.matchoff = off,
		.matchlen = len,
		.prefix = text,
		.prefixlen = tlen,
	};
	nf_ftp_nat_fn *nat = ftp_nat(ct);

	if (!nat || nat(skb, ct, ctinfo, protoff, &req, NULL) != NF_ACCEPT)
		return false;
	*delta = req.delta;
	return true;
}

/*
 * Sequence adjustment while a line is held back under NAT.
 *
 * The conntrack core keeps one correction point per direction: a segment
 * starting at or before it is shifted by offset_before, a later one by
 * offset_after, and nf_ct_seqadj_set() only ever moves the point forward.
 * That cannot describe a line cut out of several segments and then
 * written back: the sender retransmits from anywhere in it, and a rewrite
 * in a retransmission would not be recorded at all.  So while a line is
 * held back we keep the record ourselves, with the point just before the
 * line's first byte @from: a segment starting before @from keeps the
 * offset it had (@base, kept in the hold buffer); from @from on, the held
 * bytes are gone.  The receiver's acknowledgement of @from, mapped back,
 * then acknowledges the held bytes too: the sender does not retransmit
 * them, and goes on sending (a line cut into more segments than the
 * sender's congestion window would otherwise stall for good).  Copies of
 * held bytes in a retransmission starting before @from are cut out by
 * ftp_restrip(), and what follows them maps right; a segment starting at
 * @from or later, except the one continuing the line, is withheld.
 */
static void ftp_seqadj_put(struct nf_conn *ct, enum ip_conntrack_dir dir,
			   u32 pos, s32 before, s32 after)
{
	struct nf_conn_seqadj *seqadj = nfct_seqadj(ct);

	if (!seqadj)
		return;
	spin_lock_bh(&ct->lock);
	seqadj->seq[dir].correction_pos = pos;
	seqadj->seq[dir].offset_before = before;
	seqadj->seq[dir].offset_after = after;
	spin_unlock_bh(&ct->lock);
	if (before || after)
		set_bit(IPS_SEQ_ADJUST_BIT, &ct->status);
}

/* Give the segment the sequence number @seq (the sender's numbering). */
static bool ftp_set_seq(struct sk_buff *skb, unsigned int protoff, u32 seq)
{
	struct tcphdr *th;
	__be32 old;

	if (skb_ensure_writable(skb, protoff + sizeof(*th)))
		return false;
	th = (struct tcphdr *)(skb->data + protoff);
	old = th->seq;
	th->seq = htonl(seq);
	inet_proto_csum_replace4(&th->check, skb, old, th->seq, false);
	return true;
}

/* Free the copy of a rewritten line of @dir, if any (struct nf_ftp_rep). */
static void ftp_forget_rep(struct nf_ftp_ct *fc, enum nf_ftp_dir dir)
{
	struct nf_ftp_held *h = ftp_held(fc);

	if (h && h->rep[dir]) {
		kfree(h->rep[dir]);
		h->rep[dir] = NULL;
	}
}

/*
 * The record once the held line went out in a segment starting at @seq
 * (or was given up): mapped, the segment starts at @seq + @offset, and
 * what follows it is shifted by @after.  When the segment continued the
 * line (@offset is @base less the held bytes), recording that as "a
 * segment at @seq, shifted by @offset" would break the core's window
 * check: nf_conntrack's tcp_in_window() looks up the offset for the
 * receiver's acknowledgement with the acknowledged sequence number as
 * the receiver sees it, so an acknowledgement of the end of a short
 * segment (one newline, say) falls at or before the point, is mapped
 * back with @offset instead of @after, and comes out beyond anything the
 * sender sent: conntrack marks it invalid, and the host behind the NAT
 * never gets it.  So the segment is made to start where the line starts,
 * @seq less the held bytes, with @base before it: the same place, mapped,
 * and the point where a rewrite in the kernel's own helper would put it.
 *
 * @r is the copy of the line kept for ftp_replay_held() if it went out in
 * this segment (@seq, @len bytes from the sender), or NULL: completed
 * here, or given up if the segment cannot be moved.
 */
static void ftp_seqadj_done(struct sk_buff *skb, unsigned int protoff,
			    struct nf_conn *ct, enum ip_conntrack_info ctinfo,
			    struct nf_ftp_ct *fc, struct nf_ftp_rep *r,
			    u32 seq, unsigned int len, s32 base, s32 offset,
			    s32 after)
{
	u32 back = base - offset;

	if (back && back <= NF_FTP_LINE_MAX &&
	    ftp_set_seq(skb, protoff, seq - back)) {
		seq -= back;
		offset = base;
	} else if (r) {
		ftp_forget_rep(fc, ftp_dir(ctinfo));
		r = NULL;
	}
	ftp_seqadj_put(ct, CTINFO2DIR(ctinfo), seq, offset, after);
	if (r) {
		r->end = r->seq + len + after;
		r->pos = seq;
		r->before = offset;
		r->after = after;
	}
}

/* Is a line of @dir held back from the stream (cut out, not sent on)? */
static bool ftp_holding_back(const struct nf_ftp_ct *fc, enum nf_ftp_dir dir)
{
	return (fc->st.flags & FTP_F_STRIP(dir)) && fc->st.held[dir];
}

/* The record while a line is held back: see above. */
static void ftp_seqadj_hold(struct nf_conn *ct, enum ip_conntrack_info ctinfo,
			    struct nf_ftp_ct *fc)
{
	enum nf_ftp_dir dir = ftp_dir(ctinfo);
	unsigned int held = fc->st.held[dir];
	s32 base = ftp_held(fc)->base[dir];

	ftp_seqadj_put(ct, CTINFO2DIR(ctinfo), fc->next_seq[dir] - held - 1,
		       base, base - (s32)held);
}

/*
 * Set up the expectation a line announced, through the NAT helper when
 * the control connection is NATed.  @line is where @m was found; its first
 * @stripped bytes were held back from the stream (a line split across
 * segments under NAT) and are written back with the rewrite, at @at in the
 * payload, where the rest of the line begins.  @mangled
 * says this packet was rewritten already: sequence adjustment keeps a
 * single correction per packet, so a second rewrite would corrupt the
 * stream and is refused.  Returns true if the packet was
 * rewritten.  Never drops: a failure is counted and the packet goes on,
 * which keeps our view of the stream and the peer's the same.
 */
static bool ftp_expect(struct sk_buff *skb, unsigned int protoff,
		       struct nf_conn *ct, enum ip_conntrack_info ctinfo,
		       struct nf_ftp_match *m, const struct nf_ftp_line *line,
		       unsigned int stripped, unsigned int at, bool mangled,
		       int *delta)
{
	enum ip_conntrack_dir dir = CTINFO2DIR(ctinfo);
	struct nf_conntrack_expect *exp;
	union nf_inet_addr daddr;
	nf_ftp_nat_fn *nat;
	__be16 port;

	bool rewritten = false;

	if (m->family != ftp_family(ct)) {
		/* PORT or 227 on an IPv6 connection, EPRT |1| on IPv6... */
		ftp_refuse(ct, m, NF_FTP_R_FAMILY);
		return false;
	}

	exp = nf_ct_expect_alloc(ct);
	if (!exp) {
		ftp_refuse(ct, m, NF_FTP_R_EXPECT);
		return false;
	}

	/*
	 * The peer connects to the address it knows the sender by: the
	 * destination of the reply tuple (the NAT address, if any).  Only a
	 * third-party address, which policy let through because loose is
	 * set, is taken from the text.
	 */
	daddr = ct->tuplehash[!dir].tuple.dst.u3;
	if (!ftp_match_is_addr(m, &ct->tuplehash[dir].tuple.src.u3))
		memcpy(daddr.ip6, m->addr.ip6, sizeof(daddr.ip6));
	port = htons(m->port);
	nf_ct_expect_init(exp, NF_CT_EXPECT_CLASS_DEFAULT, nf_ct_l3num(ct),
			  &ct->tuplehash[!dir].tuple.src.u3, &daddr,
			  IPPROTO_TCP, NULL, &port);

	nat = ftp_nat(ct);
	if (nat) {
		unsigned int end = m->off + m->len;
		struct nf_ftp_nat_req req = {
			.match = m,
			.line = line->text,
			.matchoff = line->start + m->off,
			.matchlen = m->len,
		};

		if (stripped) {
			/* Write the line back from its start. */
			req.matchoff = at;
			req.matchlen = end > stripped ? end - stripped : 0;
			req.prefix = line->text;
			req.prefixlen = m->off;
			req.suffix = line->text + end;
			req.suffixlen = end < stripped ? stripped - end : 0;
		}
		if ((!stripped && line->start + (int)m->off < 0) || mangled) {
			/* Text already sent, or a second rewrite. */
			ftp_refuse(ct, m, NF_FTP_R_EXPECT);
		} else if (nat(skb, ct, ctinfo, protoff, &req, exp) !=
			   NF_ACCEPT) {
			ftp_refuse(ct, m, NF_FTP_R_EXPECT);
		} else {
			*delta = req.delta;
			rewritten = true;
			nf_ftp_stat_inc(nf_ct_net(ct), NF_FTP_STAT_EXPECTED);
		}
	} else if (nf_ct_expect_related(exp, 0) != 0) {
		ftp_refuse(ct, m, NF_FTP_R_EXPECT);
	} else {
		nf_ftp_stat_inc(nf_ct_net(ct), NF_FTP_STAT_EXPECTED);
	}
	nf_ct_expect_put(exp);
	return rewritten;
}

/* Read the policy once per segment; the parameters may change under us. */
static void ftp_read_policy(struct nf_ftp_policy *pol)
{
	pol->loose = READ_ONCE(loose);
	pol->pairing = READ_ONCE(pairing);
	pol->min_port = READ_ONCE(min_port);
}

/*
 * A segment that came ahead of data we have not seen (reordered, or one
 * before it was lost before us): keep its bytes, merged with what came
 * ahead before, until the gap is filled; ftp_drain() parses them then.
 * Not under NAT (the segment has gone out as it was; the held-back path
 * deals with order there), not once the channel is encrypted, and at most
 * NF_FTP_LINE_MAX bytes in all.  Returns false if the bytes cannot be
 * kept: the caller gives up on the line instead.
 */
static bool ftp_stash(struct nf_conn *ct, struct nf_ftp_ct *fc,
		      enum nf_ftp_dir dir, u32 seq, const char *data,
		      unsigned int len)
{
	struct nf_ftp_held *h;
	struct nf_ftp_ooo *o;
	u32 lo, hi;

	if ((ct->status & IPS_NAT_MASK) || (fc->st.flags & NF_FTP_F_TLS) ||
	    len > NF_FTP_LINE_MAX)
		return false;
	h = ftp_get_held(fc);
	if (!h)
		return false;
	o = h->ooo[dir];
	if (!o) {
		o = kmalloc(sizeof(*o), GFP_ATOMIC);
		if (!o)
			return false;
		o->seq = seq;
		o->len = 0;
		h->ooo[dir] = o;
	}
	if (!o->len)
		o->seq = seq;
	/* Only one run of bytes: the union must be contiguous, and short. */
	if ((s32)(seq - (o->seq + o->len)) > 0 ||
	    (s32)(o->seq - (seq + len)) > 0)
		return false;
	lo = (s32)(seq - o->seq) < 0 ? seq : o->seq;
	hi = (s32)(seq + len - (o->seq + o->len)) > 0 ? seq + len
						       : o->seq + o->len;
	if (hi - lo > NF_FTP_LINE_MAX)
		return false;
	if (lo != o->seq)
		memmove(o->buf + (o->seq - lo), o->buf, o->len);
	memcpy(o->buf + (seq - lo), data, len);
	o->seq = lo;
	o->len = hi - lo;
	return true;
}

#define FTP_STASHED	(-2)

/*
 * Work out which part of this segment is new.  Returns the offset of the
 * first new byte, -1 when everything in it was seen before, or
 * FTP_STASHED when it came ahead of a gap and was kept for later.
 */
static int ftp_new_data(struct nf_conn *ct, struct nf_ftp_ct *fc,
			enum nf_ftp_dir dir, u32 seq, const char *data,
			unsigned int len)
{
	int skip = 0;

	if (fc->st.flags & FTP_F_SEQ(dir)) {
		s32 d = (s32)(seq - fc->next_seq[dir]);

		if (d < 0) {
			/* Retransmission, maybe with new data behind it. */
			if ((u32)-d >= len)
				return -1;
			skip = -d;
		} else if (d > 0) {
			nf_ftp_stat_inc(nf_ct_net(ct), NF_FTP_STAT_GAPS);
			if (ftp_stash(ct, fc, dir, seq, data, len))
				return FTP_STASHED;
			/* We missed data: what is held is no longer a line. */
			ftp_unstash(fc, dir);
			nf_ftp_resync(&fc->st, dir);
			fc->st.flags &= ~(FTP_F_STRIP(dir) | FTP_F_REPLAY(dir));
		}
	}
	fc->next_seq[dir] = seq + len;
	fc->st.flags |= FTP_F_SEQ(dir);
	return skip;
}

/*
 * A line held back from the stream that grows past FTP_STRIP_MAX, with
 * this segment, cannot be one to rewrite: put what was held back in front
 * of this segment's data (at @pos) and let the line go on as it came.
 * Done before the line is assembled, which may drop it as over-long.
 */
static void ftp_unstrip_long(struct sk_buff *skb, unsigned int protoff,
			     unsigned int dataoff, unsigned int *pos,
			     struct nf_conn *ct, enum ip_conntrack_info ctinfo,
			     struct nf_ftp_ct *fc, bool *mangled)
{
	enum nf_ftp_dir dir = ftp_dir(ctinfo);
	const char *data = (const char *)skb->data + dataoff + *pos;
	unsigned int len = skb->len - dataoff - *pos;
	unsigned int held = fc->st.held[dir];
	const char *nl = memchr(data, '\n', len);
	int delta;

	if (!(fc->st.flags & FTP_F_STRIP(dir)) || !held)
		return;
	if (held + (nl ? nl - data + 1 : len) <= FTP_STRIP_MAX)
		return;
	fc->st.flags &= ~FTP_F_STRIP(dir);
	if (ftp_splice(skb, protoff, ct, ctinfo, *pos, 0,
		       ftp_held(fc)->buf[dir], held, &delta)) {
		*pos += delta;
		*mangled = true;
	} else {
		net_warn_ratelimited(KBUILD_MODNAME ": lost %u held bytes of a split line\n",
				     held);
	}
}

/*
 * Keep the unfinished tail of a segment (from @pos) for the next one.
 * Under NAT, a tail that may become a line to rewrite is also cut from
 * the packet, to be written back, rewritten, when the line is complete.
 */
static void ftp_keep_tail(struct sk_buff *skb, unsigned int protoff,
			  unsigned int dataoff, unsigned int pos,
			  struct nf_conn *ct, enum ip_conntrack_info ctinfo,
			  struct nf_ftp_ct *fc, bool mangled)
{
	enum nf_ftp_dir dir = ftp_dir(ctinfo);
	unsigned int held = fc->st.held[dir];
	unsigned int len = skb->len - dataoff - pos;
	struct nf_ftp_held *h = ftp_held(fc);
	struct net *net = nf_ct_net(ct);
	s32 base = 0;
	int delta;
	bool strip;

	/* ftp_unstrip_long() kept a held-back line within FTP_STRIP_MAX. */
	if (held)
		strip = fc->st.flags & FTP_F_STRIP(dir);
	else
		strip = !mangled && len <= FTP_STRIP_MAX && ftp_nat(ct) &&
			ftp_may_rewrite(dir, (const char *)skb->data +
					dataoff + pos, len);
	if (strip && !held) {
		/*
		 * Nothing in this segment was changed, so the tail ends at
		 * next_seq.  The segment must map as its tail's first byte
		 * does (ftp_seqadj_hold()): not across an earlier rewrite.
		 */
		u32 end = fc->next_seq[dir];

		base = nf_ct_seq_offset(ct, CTINFO2DIR(ctinfo), end - len);
		if (base != nf_ct_seq_offset(ct, CTINFO2DIR(ctinfo),
					     end - (skb->len - dataoff)))
			strip = false;
	}

	if (!h) {
		h = ftp_get_held(fc);
		if (!h) {
			/* Nothing is held, nothing stripped: lose the line. */
			nf_ftp_resync(&fc->st, dir);
			nf_ftp_stat_inc(net, NF_FTP_STAT_REFUSED +
					     NF_FTP_R_OVERFLOW);
			return;
		}
	}

	if (nf_ftp_hold(&fc->st, dir, h->buf[dir],
			(const char *)skb->data + dataoff + pos, len)) {
		nf_ftp_stat_inc(net, NF_FTP_STAT_REFUSED + NF_FTP_R_OVERFLOW);
		return;
	}
	nf_ftp_stat_inc(net, NF_FTP_STAT_PARTIAL);

	if (strip) {
		/*
		 * A segment that is nothing but held bytes goes on as the
		 * newline before the line, one byte at that newline's sequence
		 * number: the receiver has it, takes it for a duplicate and
		 * acknowledges it at once (and, the segment being acceptable
		 * to it, also takes in what the segment acknowledges), and
		 * that acknowledgement, mapped back by ftp_seqadj_hold(),
		 * covers the held bytes.  An empty segment there would lie
		 * before what the receiver accepts and be answered, if at
		 * all, by a rate-limited duplicate ACK, which leaves a sender
		 * whose congestion window is full of held bytes waiting.  Only
		 * while already holding: the core decides whether to adjust a
		 * segment before the helper runs, and the first cut is what
		 * sets that up.  The segment's new bytes are its tail (@pos
		 * 0), so the newline is @held + 1 bytes before them.
		 */
		bool echo = held && !pos;

		if (ftp_splice(skb, protoff, ct, ctinfo, pos, len,
			       echo ? "\n" : NULL, echo, &delta)) {
			if (echo)
				ftp_set_seq(skb, protoff, fc->next_seq[dir] -
					    len - held - 1);
			if (!held)
				h->base[dir] = base;
			fc->st.flags |= FTP_F_STRIP(dir);
		} else {
			if (held)
				net_warn_ratelimited(KBUILD_MODNAME ": lost %u held bytes of a split line\n",
						     held);
			fc->st.flags &= ~FTP_F_STRIP(dir);
		}
	}
}

#define FTP_WITHHELD	(-1)
#define FTP_UNMAPPABLE	(-2)

/*
 * While a line is held back (FTP_F_STRIP), the receiver cannot
 * acknowledge its bytes, so the sender retransmits them (tail loss probe,
 * then timeout), and a copy let through would land where the rewritten
 * line is to go.  Called before ftp_new_data().  A segment that starts
 * before the held-back range [from, next_seq) has what lies in it cut
 * out: returns how many bytes (all before the new data, if any).  One that
 * continues the stream at next_seq is left alone (returns 0).  One that
 * starts anywhere else from @from on cannot be mapped right (see
 * ftp_seqadj_hold()), so all of its bytes are withheld: returns
 * FTP_WITHHELD, and the segment is not looked at (what it carries beyond
 * next_seq comes again: the receiver cannot have acknowledged it).  If
 * they cannot be cut, FTP_UNMAPPABLE: the segment must be dropped, as it
 * would land in the wrong place.
 * Once the line has gone out, late copies map before the receiver's
 * window through the recorded sequence adjustment.
 */
static int ftp_restrip(struct sk_buff *skb, unsigned int protoff,
		       unsigned int dataoff, u32 seq, struct nf_conn *ct,
		       enum ip_conntrack_info ctinfo, struct nf_ftp_ct *fc,
		       bool *mangled)
{
	enum nf_ftp_dir dir = ftp_dir(ctinfo);
	unsigned int len = skb->len - dataoff;
	u32 end = fc->next_seq[dir];
	u32 from = end - fc->st.held[dir];
	int delta;
	u32 a, b;

	if (!ftp_holding_back(fc, dir) || !(fc->st.flags & FTP_F_SEQ(dir)) ||
	    seq == end)
		return 0;
	if ((s32)(seq - from) >= 0) {
		if (!ftp_splice(skb, protoff, ct, ctinfo, 0, len, NULL, 0,
				&delta))
			return FTP_UNMAPPABLE;
		*mangled = true;
		return FTP_WITHHELD;
	}
	/* The part of [from, end) in this segment, as offsets into it. */
	a = from - seq;
	b = min_t(u32, end - seq, len);
	if (b <= a ||
	    !ftp_splice(skb, protoff, ct, ctinfo, a, b - a, NULL, 0, &delta))
		return 0;
	*mangled = true;
	return b - a;
}

/*
 * A held line was rewritten into the segment at @seq, @seglen bytes from
 * the sender, the first thing in it (@at 0): keep a copy of the line for
 * ftp_replay_held() until the receiver acknowledges it.  Returns the copy,
 * or NULL (then a loss of that segment after us stalls the connection, as
 * before there was a copy).
 */
static struct nf_ftp_rep *ftp_keep_rep(struct nf_ftp_ct *fc,
				       enum nf_ftp_dir dir, u32 seq,
				       unsigned int seglen,
				       const struct nf_ftp_line *line,
				       unsigned int stripped, unsigned int at)
{
	unsigned int n = max(line->len, stripped);
	struct nf_ftp_held *h = ftp_held(fc);
	struct nf_ftp_rep *r;

	if (!h || at || n > NF_FTP_LINE_MAX || seglen > U16_MAX) {
		ftp_forget_rep(fc, dir);
		return NULL;
	}
	r = h->rep[dir];
	if (!r) {
		r = kmalloc(sizeof(*r), GFP_ATOMIC);
		if (!r)
			return NULL;
		h->rep[dir] = r;
	}
	r->seq = seq;
	r->end = seq;
	r->pos = seq;
	r->before = 0;
	r->after = 0;
	r->seglen = seglen;
	r->len = line->len;
	memcpy(r->text, line->text, n);
	return r;
}

/*
 * The receiver acknowledged @ack (a packet of the other direction): the
 * copy of a line of @dir it covers is no longer needed.
 */
static void ftp_rep_acked(struct nf_ftp_ct *fc, enum nf_ftp_dir dir,
			  u32 ack)
{
	struct nf_ftp_held *h = ftp_held(fc);

	if (h && h->rep[dir] && (s32)(ack - h->rep[dir]->end) >= 0)
		ftp_forget_rep(fc, dir);
}

/*
 * A retransmission of the segment a held line was rewritten into (see
 * struct nf_ftp_rep): it carries the line's last part, from wherever the
 * sender's acknowledged data ended (the held bytes are acknowledged, or
 * some of them, or none).  Write the whole line into it again, rewritten
 * the same way, move its start back to the line's and put back the
 * record of the first time (the rewrite moves the core's).  Only while
 * that record still stands, and only for a segment that ends where the
 * first one did.  Returns true if it was done.
 */
static bool ftp_replay_held(struct sk_buff *skb, unsigned int protoff,
			    unsigned int dataoff, u32 seq, struct nf_conn *ct,
			    enum ip_conntrack_info ctinfo, struct nf_ftp_ct *fc)
{
	struct nf_ftp_state st = { .flags = NF_FTP_F_PASV | NF_FTP_F_EPSV };
	enum ip_conntrack_dir cdir = CTINFO2DIR(ctinfo);
	struct nf_conn_seqadj *seqadj = nfct_seqadj(ct);
	enum nf_ftp_dir dir = ftp_dir(ctinfo);
	struct nf_ftp_held *h = ftp_held(fc);
	struct nf_ftp_rep *r = h ? h->rep[dir] : NULL;
	struct nf_ftp_policy pol;
	union nf_ftp_addr sender;
	struct nf_ftp_line line;
	struct nf_ftp_match m;
	unsigned int lead;
	bool same;
	int delta;

	if (!r || !seqadj || seq + (skb->len - dataoff) != r->seq + r->seglen ||
	    (s32)(seq - r->pos) < 0 || (s32)(r->seq - seq) < 0)
		return false;
	/* Bytes of the line before this segment (it starts inside it). */
	lead = seq - r->pos;
	spin_lock_bh(&ct->lock);
	same = seqadj->seq[cdir].correction_pos == r->pos &&
	       seqadj->seq[cdir].offset_before == r->before &&
	       seqadj->seq[cdir].offset_after == r->after;
	spin_unlock_bh(&ct->lock);
	if (!same) {
		ftp_forget_rep(fc, dir);
		return false;
	}
	ftp_read_policy(&pol);
	ftp_addr_from_inet(&sender, &ct->tuplehash[dir].tuple.src.u3);
	if (nf_ftp_process_line(&st, dir, r->text, r->len, ftp_family(ct),
				&sender, &pol, &m) != NF_FTP_V_EXPECT)
		return false;
	line.text = r->text;
	line.len = r->len;
	line.start = -(int)lead;
	if (!ftp_expect(skb, protoff, ct, ctinfo, &m, &line, lead, 0, false,
			&delta))
		return false;
	ftp_seqadj_put(ct, cdir, r->pos, r->before, r->after);
	if (lead && !ftp_set_seq(skb, protoff, r->pos))
		net_warn_ratelimited(KBUILD_MODNAME ": could not move a replayed line\n");
	return true;
}

/*
 * A retransmission of the segment whose line we NATed last: the receiver
 * may never have seen our rewrite, so do it again, the same way (the
 * expectation it registers replaces the identical one, and the sequence
 * adjustment is already recorded for this sequence number).
 */
static void ftp_replay(struct sk_buff *skb, unsigned int protoff,
		       unsigned int dataoff, u32 seq, struct nf_conn *ct,
		       enum ip_conntrack_info ctinfo, struct nf_ftp_ct *fc)
{
	enum nf_ftp_dir dir = ftp_dir(ctinfo);
	/* Fresh line state; the reply it pairs with was seen already. */
	struct nf_ftp_state st = { .flags = NF_FTP_F_PASV | NF_FTP_F_EPSV };
	const char *data = (const char *)skb->data + dataoff;
	unsigned int len = skb->len - dataoff;
	unsigned int pos = 0, overflows = 0;
	struct nf_ftp_policy pol;
	union nf_ftp_addr sender;
	struct nf_ftp_line line;
	struct nf_ftp_match m;
	int delta;

	if (!(fc->st.flags & FTP_F_REPLAY(dir)) || seq != fc->replay_seq[dir])
		return;
	ftp_read_policy(&pol);
	ftp_addr_from_inet(&sender, &ct->tuplehash[dir].tuple.src.u3);
	while (nf_ftp_next_line(&st, dir, NULL, data, len, &pos, &line,
				&overflows)) {
		if (nf_ftp_process_line(&st, dir, line.text, line.len,
					ftp_family(ct), &sender, &pol, &m) ==
		    NF_FTP_V_EXPECT) {
			ftp_expect(skb, protoff, ct, ctinfo, &m, &line, 0, 0,
				   false, &delta);
			return;
		}
	}
}

/*
 * After a segment, by either path: count its lines and over-long lines
 * once, and free the hold buffer if no direction keeps bytes in it.
 */
static void ftp_segment_done(struct net *net, struct nf_ftp_ct *fc,
			     unsigned int lines, unsigned int overflows)
{
	struct nf_ftp_held *h = ftp_held(fc);

	if (lines)
		ftp_stat_add(net, NF_FTP_STAT_LINES, lines);
	if (overflows)
		ftp_stat_add(net, NF_FTP_STAT_REFUSED + NF_FTP_R_OVERFLOW,
			     overflows);
	if (h && !ftp_buffered(fc, 0) && !ftp_buffered(fc, 1) &&
	    !h->ooo[0] && !h->ooo[1] && !h->rep[0] && !h->rep[1])
		ftp_drop_held(fc);
}

/*
 * Parse @data, bytes of the stream that are not in the current packet
 * (see ftp_drain()), as a segment that continues the stream.  Never under
 * NAT, so nothing is written to the packet.
 */
static void ftp_parse_text(struct sk_buff *skb, unsigned int protoff,
			   struct nf_conn *ct, enum ip_conntrack_info ctinfo,
			   struct nf_ftp_ct *fc, const char *data,
			   unsigned int len, unsigned int *lines,
			   unsigned int *overflows)
{
	enum nf_ftp_dir dir = ftp_dir(ctinfo);
	struct nf_ftp_held *h = ftp_held(fc);
	struct net *net = nf_ct_net(ct);
	struct nf_ftp_policy pol;
	union nf_ftp_addr sender;
	struct nf_ftp_line line;
	struct nf_ftp_match m;
	unsigned int pos = 0;
	int delta;

	ftp_read_policy(&pol);
	ftp_addr_from_inet(&sender, &ct->tuplehash[dir].tuple.src.u3);
	while (nf_ftp_next_line(&fc->st, dir, h->buf[dir], data, len, &pos,
				&line, overflows)) {
		u16 tls = fc->st.flags & NF_FTP_F_TLS;
		enum nf_ftp_verdict v;

		(*lines)++;
		if (!line.text)
			continue;
		v = nf_ftp_process_line(&fc->st, dir, line.text, line.len,
					ftp_family(ct), &sender, &pol, &m);
		if (v == NF_FTP_V_REFUSE)
			ftp_refuse(ct, &m, m.reason);
		else if (v == NF_FTP_V_EXPECT)
			ftp_expect(skb, protoff, ct, ctinfo, &m, &line, 0, 0,
				   true, &delta);
		if (!tls && (fc->st.flags & NF_FTP_F_TLS)) {
			nf_ftp_stat_inc(net, NF_FTP_STAT_TLS_SESSIONS);
			return;
		}
	}
	if (pos < len) {
		if (nf_ftp_hold(&fc->st, dir, h->buf[dir], data + pos,
				len - pos))
			(*overflows)++;
		else
			nf_ftp_stat_inc(net, NF_FTP_STAT_PARTIAL);
	}
}

/*
 * After a segment that continued the stream: if it reached the bytes that
 * came ahead of a gap (ftp_stash()), parse what of them is new, and
 * continue the stream after them.
 */
static void ftp_drain(struct sk_buff *skb, unsigned int protoff,
		      struct nf_conn *ct, enum ip_conntrack_info ctinfo,
		      struct nf_ftp_ct *fc, unsigned int *lines,
		      unsigned int *overflows)
{
	enum nf_ftp_dir dir = ftp_dir(ctinfo);
	struct nf_ftp_held *h = ftp_held(fc);
	struct nf_ftp_ooo *o = h ? h->ooo[dir] : NULL;
	s32 d;

	if (!o)
		return;
	if (fc->st.flags & NF_FTP_F_TLS) {
		/* The segment started TLS: nothing after it is parsed. */
		ftp_unstash(fc, dir);
		return;
	}
	d = (s32)(fc->next_seq[dir] - o->seq);
	if (d < 0)
		return;		/* still a gap */
	if (d < o->len) {
		fc->next_seq[dir] = o->seq + o->len;
		ftp_parse_text(skb, protoff, ct, ctinfo, fc, o->buf + d,
			       o->len - d, lines, overflows);
	}
	ftp_unstash(fc, dir);
}

/*
 * The full path: every line of the segment, in place (linearized).
 * Returns the verdict: NF_DROP only for a segment that would corrupt the
 * stream (see ftp_restrip()).
 */
static unsigned int ftp_process(struct sk_buff *skb, unsigned int protoff,
				unsigned int dataoff, u32 seq,
				struct nf_conn *ct,
				enum ip_conntrack_info ctinfo,
				struct nf_ftp_ct *fc)
{
	enum nf_ftp_dir dir = ftp_dir(ctinfo);
	struct net *net = nf_ct_net(ct);
	unsigned int overflows = 0, lines = 0, len;
	bool mangled = false, at_line_start;
	unsigned int skblen = skb->len;
	struct nf_ftp_policy pol;
	union nf_ftp_addr sender;
	struct nf_ftp_held *h;
	struct nf_ftp_line line;
	struct nf_ftp_match m;
	struct nf_ftp_rep *rep = NULL;
	bool held_back;
	unsigned int pos;
	s32 offset = 0, base = 0;
	int skip, cut;
	u8 family;

	/* Does this segment start a line, with nothing held before it? */
	at_line_start = !fc->st.held[dir] &&
			!(fc->st.flags & (NF_FTP_F_DISCARD(dir) |
					  NF_FTP_F_RESYNC(dir)));
	held_back = ftp_holding_back(fc, dir);
	if (held_back) {
		offset = nf_ct_seq_offset(ct, CTINFO2DIR(ctinfo), seq);
		base = ftp_held(fc)->base[dir];
	}
	len = skb->len - dataoff;
	cut = ftp_restrip(skb, protoff, dataoff, seq, ct, ctinfo, fc,
			  &mangled);
	if (cut == FTP_UNMAPPABLE)
		return NF_DROP;
	if (cut == FTP_WITHHELD)
		goto out;
	skip = ftp_new_data(ct, fc, dir, seq,
			    (const char *)skb->data + dataoff, len);
	if (skip == FTP_STASHED)
		goto out;
	if (skip < 0) {
		if (!held_back &&
		    !ftp_replay_held(skb, protoff, dataoff, seq, ct, ctinfo, fc))
			ftp_replay(skb, protoff, dataoff, seq, ct, ctinfo, fc);
		goto out;
	}
	/* The cut bytes were all before the new data. */
	pos = skip - cut;

	if (nf_ftp_tls_segment(&fc->st, (const char *)skb->data + dataoff + pos,
			       skb->len - dataoff - pos)) {
		nf_ftp_stat_inc(net, NF_FTP_STAT_TLS_SKIPPED);
		goto out;
	}

	ftp_read_policy(&pol);
	family = ftp_family(ct);
	ftp_addr_from_inet(&sender, &ct->tuplehash[dir].tuple.src.u3);
	ftp_unstrip_long(skb, protoff, dataoff, &pos, ct, ctinfo, fc, &mangled);

	for (;;) {
		/* Re-read every time: a NAT rewrite may move the data. */
		const char *data = (const char *)skb->data + dataoff;
		unsigned int len = skb->len - dataoff;
		u16 tls = fc->st.flags & NF_FTP_F_TLS;
		unsigned int stripped = 0, at = pos;
		enum nf_ftp_verdict v;
		bool changed = false;
		int delta = 0;

		h = ftp_held(fc);
		if (!nf_ftp_next_line(&fc->st, dir, h ? h->buf[dir] : NULL,
				      data, len, &pos, &line, &overflows)) {
			if (pos < len)
				ftp_keep_tail(skb, protoff, dataoff, pos, ct,
					      ctinfo, fc, mangled);
			break;
		}
		if (!line.text) {
			/* the end of a line passed over: nothing to parse */
			lines++;
			continue;
		}
		if (line.start < 0 && (fc->st.flags & FTP_F_STRIP(dir))) {
			/* The first -start bytes never went out. */
			stripped = -line.start;
			fc->st.flags &= ~FTP_F_STRIP(dir);
		}
		lines++;
		v = nf_ftp_process_line(&fc->st, dir, line.text, line.len,
					family, &sender, &pol, &m);
		if (v == NF_FTP_V_REFUSE)
			ftp_refuse(ct, &m, m.reason);
		else if (v == NF_FTP_V_EXPECT)
			changed = ftp_expect(skb, protoff, ct, ctinfo, &m,
					     &line, stripped, at, mangled,
					     &delta);
		if (stripped && changed)
			rep = ftp_keep_rep(fc, dir, seq,
					   fc->next_seq[dir] - seq, &line,
					   stripped, at);
		if (stripped && !changed) {
			/* Not rewritten after all: send the line on as is. */
			changed = ftp_splice(skb, protoff, ct, ctinfo, at, 0,
					     line.text, stripped, &delta);
			if (!changed)
				net_warn_ratelimited(KBUILD_MODNAME ": lost %u held bytes of a split line\n",
						     stripped);
		}
		if (changed) {
			pos += delta;
			mangled = true;
			/* Replayable if the segment is all ours to parse. */
			if (v == NF_FTP_V_EXPECT && at_line_start && !skip &&
			    line.start >= 0) {
				fc->replay_seq[dir] = seq;
				fc->st.flags |= FTP_F_REPLAY(dir);
			} else {
				fc->st.flags &= ~FTP_F_REPLAY(dir);
			}
		}
		if (!tls && (fc->st.flags & NF_FTP_F_TLS)) {
			/* 234: what follows is TLS, parse nothing more. */
			nf_ftp_stat_inc(net, NF_FTP_STAT_TLS_SESSIONS);
			break;
		}
	}
	ftp_drain(skb, protoff, ct, ctinfo, fc, &lines, &overflows);
	ftp_segment_done(net, fc, lines, overflows);
out:
	/* Our record of the sequence adjustment: ftp_seqadj_hold(). */
	if (ftp_holding_back(fc, dir)) {
		if (rep)	/* the next line is held already */
			ftp_forget_rep(fc, dir);
		ftp_seqadj_hold(ct, ctinfo, fc);
	} else if (held_back) {
		/* The line went out in this segment, or was given up. */
		ftp_seqadj_done(skb, protoff, ct, ctinfo, fc, rep, seq, len,
				base, offset, offset + (int)(skb->len - skblen));
	}
	return NF_ACCEPT;
}

/*
 * The fast path, for the bulk of a control connection: a client segment
 * that continues the stream in order, not held back under NAT, and in
 * which no PORT or EPRT line is due, is scanned where it lies, piece by
 * piece of the skb, without linearizing or copying it (see
 * nf_ftp_scan()); a short held line is taken over, an unfinished one that
 * may matter is held (except under NAT).  Anything else, or anything the
 * scan finds it cannot finish, is left untouched for ftp_process().
 */
static bool ftp_scan_segment(struct sk_buff *skb, unsigned int dataoff,
			     u32 seq, struct nf_conn *ct,
			     enum ip_conntrack_info ctinfo,
			     struct nf_ftp_ct *fc)
{
	const enum nf_ftp_dir dir = NF_FTP_CLIENT;
	unsigned int consumed = 0, n;
	struct skb_seq_state ss;
	struct nf_ftp_scan sc;
	struct nf_ftp_held *h;
	struct net *net;
	const u8 *data;
	int ret = 0;

	if (ftp_dir(ctinfo) != dir ||
	    (fc->st.flags & (FTP_F_SEQ(dir) | FTP_F_STRIP(dir))) !=
	    FTP_F_SEQ(dir) || seq != fc->next_seq[dir])
		return false;

	h = ftp_held(fc);
	if (h && h->ooo[dir])
		return false;	/* bytes wait behind a gap: ftp_drain() */
	nf_ftp_scan_begin(&sc, &fc->st, h ? h->buf[dir] : NULL,
			  ftp_family(ct));
	skb_prepare_seq_read(skb, dataoff, skb->len, &ss);
	while ((n = skb_seq_read(consumed, &data, &ss)) != 0) {
		ret = nf_ftp_scan(&sc, (const char *)data, n);
		if (ret) {
			skb_abort_seq_read(&ss);
			break;
		}
		consumed += n;
	}
	if (ret)
		return false;
	if (nf_ftp_scan_tail(&sc)) {
		/* Under NAT, held lines are ftp_keep_tail()'s business. */
		if (ftp_nat(ct))
			return false;
		h = ftp_get_held(fc);
		if (!h)
			return false;
	}
	if (nf_ftp_scan_end(&sc, &fc->st, h ? h->buf[dir] : NULL))
		return false;

	fc->next_seq[dir] = seq + (skb->len - dataoff);
	net = nf_ct_net(ct);
	if (fc->st.held[dir])
		nf_ftp_stat_inc(net, NF_FTP_STAT_PARTIAL);
	ftp_segment_done(net, fc, sc.lines, sc.overflows);
	return true;
}

static int ftp_help(struct sk_buff *skb, unsigned int protoff,
		    struct nf_conn *ct, enum ip_conntrack_info ctinfo)
{
	const struct tcphdr *th;
	unsigned int verdict = NF_ACCEPT;
	struct nf_ftp_ct *fc;
	unsigned int dataoff;
	struct tcphdr _th;
	u32 seq;

	/* Only data of established connections carries commands. */
	if (ctinfo != IP_CT_ESTABLISHED && ctinfo != IP_CT_ESTABLISHED_REPLY)
		return NF_ACCEPT;

	th = skb_header_pointer(skb, protoff, sizeof(_th), &_th);
	if (!th)
		return NF_ACCEPT;
	dataoff = protoff + th->doff * 4;
	if (dataoff >= skb->len)
		return NF_ACCEPT;
	seq = ntohl(th->seq);

	fc = ftp_lock(ct);
	if (th->ack)
		ftp_rep_acked(fc, !ftp_dir(ctinfo), ntohl(th->ack_seq));
	if (!ftp_scan_segment(skb, dataoff, seq, ct, ctinfo, fc)) {
		/*
		 * Parse in place.  Nothing has been looked at yet, so if
		 * this fails the sender's retransmission gets the same
		 * treatment later.
		 */
		if (unlikely(skb_linearize(skb))) {
			ftp_unlock(fc);
			return NF_DROP;
		}
		verdict = ftp_process(skb, protoff, dataoff, seq, ct, ctinfo,
				      fc);
	}
	ftp_unlock(fc);
	return verdict;
}

/*
 * An entry injected through ctnetlink (conntrackd failover, say): we have
 * not seen its stream, so take the next segment of each direction as
 * where it starts.
 */
static int ftp_from_nlattr(struct nlattr *attr, struct nf_conn *ct)
{
	struct nf_ftp_ct *fc = ftp_lock(ct);

	fc->st.flags &= ~(FTP_F_SEQ(0) | FTP_F_SEQ(1) |
			  FTP_F_REPLAY(0) | FTP_F_REPLAY(1));
	ftp_unstash(fc, NF_FTP_CLIENT);
	ftp_unstash(fc, NF_FTP_SERVER);
	ftp_forget_rep(fc, NF_FTP_CLIENT);
	ftp_forget_rep(fc, NF_FTP_SERVER);
	ftp_unlock(fc);
	return 0;
}

static void ftp_destroy(struct nf_conn *ct)
{
	struct nf_ftp_ct *fc = nfct_help_data(ct);

	ftp_free_bufs(ftp_held(fc));
}

static bool ftp_is_ours(const struct nf_conntrack_helper *helper)
{
	return helper >= ftp_helpers && helper < ftp_helpers + ftp_nr_helpers;
}

/* Module exit: free the hold buffers of every connection we help. */
static int ftp_free_held(struct nf_conn *ct, void *data)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct nf_ftp_ct *fc;

	if (!help || !ftp_is_ours(rcu_access_pointer(help->helper)))
		return 0;
	fc = ftp_lock(ct);
	ftp_drop_held(fc);
	nf_ftp_resync(&fc->st, NF_FTP_CLIENT);
	nf_ftp_resync(&fc->st, NF_FTP_SERVER);
	fc->st.flags &= ~(FTP_F_STRIP(0) | FTP_F_STRIP(1));
	ftp_unlock(fc);
	return 0;
}

static int __net_init nf_ftp_net_init(struct net *net)
{
	struct nf_ftp_net *fn = net_generic(net, nf_ftp_net_id);

	fn->stats = alloc_percpu(struct nf_ftp_stats);
	if (!fn->stats)
		return -ENOMEM;
	if (!proc_create_net_single("nf_conntrack_ftp", 0444, net->proc_net,
				    ftp_stats_show, NULL)) {
		free_percpu(fn->stats);
		return -ENOMEM;
	}
	return 0;
}

static void __net_exit nf_ftp_net_exit(struct net *net)
{
	struct nf_ftp_net *fn = net_generic(net, nf_ftp_net_id);

	remove_proc_entry("nf_conntrack_ftp", net->proc_net);
	free_percpu(fn->stats);
}

static struct pernet_operations nf_ftp_net_ops = {
	.init	= nf_ftp_net_init,
	.exit	= nf_ftp_net_exit,
	.id	= &nf_ftp_net_id,
	.size	= sizeof(struct nf_ftp_net),
};

static int __init ftp_check_ports(void)
{
	unsigned int i, j;

	if (ports_c == 0)
		ports[ports_c++] = FTP_PORT;
	for (i = 0; i < ports_c; i++) {
		if (ports[i] == 0) {
			pr_err("ports: 0 is not a port\n");
			return -EINVAL;
		}
		for (j = 0; j < i; j++) {
			if (ports[j] == ports[i]) {
				pr_err("ports: %u given twice\n", ports[i]);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int __init nf_conntrack_ftp_init(void)
{
	unsigned int i;
	int ret;

	NF_CT_HELPER_BUILD_BUG_ON(sizeof(struct nf_ftp_ct));

	ret = ftp_check_ports();
	if (ret)
		return ret;

	ret = register_pernet_subsys(&nf_ftp_net_ops);
	if (ret) {
		pr_err("cannot register per-namespace state: %d\n", ret);
		return ret;
	}

	for (i = 0; i < ports_c; i++) {
		nf_ct_helper_init(&ftp_helpers[2 * i], AF_INET, IPPROTO_TCP,
				  "ftp", FTP_PORT, ports[i], ports[i],
				  &ftp_exp_policy, 0, ftp_help,
				  ftp_from_nlattr, THIS_MODULE);
		nf_ct_helper_init(&ftp_helpers[2 * i + 1], AF_INET6,
				  IPPROTO_TCP, "ftp", FTP_PORT, ports[i],
				  ports[i], &ftp_exp_policy, 0, ftp_help,
				  ftp_from_nlattr, THIS_MODULE);
		ftp_helpers[2 * i].destroy = ftp_destroy;
		ftp_helpers[2 * i + 1].destroy = ftp_destroy;
	}
	ftp_nr_helpers = 2 * ports_c;

	ret = nf_conntrack_helpers_register(ftp_helpers, ftp_nr_helpers);
	if (ret) {
		pr_err("cannot register helpers: %d%s\n", ret,
		       ret == -EEXIST ?
		       " (another FTP helper, e.g. the kernel's nf_conntrack_ftp, has the name)" :
		       "");
		unregister_pernet_subsys(&nf_ftp_net_ops);
		return ret;
	}
	return 0;
}

static void __exit nf_conntrack_ftp_fini(void)
{
	WRITE_ONCE(ftp_exiting, true);
	nf_ct_iterate_destroy(ftp_free_held, NULL);
	nf_conntrack_helpers_unregister(ftp_helpers, ftp_nr_helpers);
	unregister_pernet_subsys(&nf_ftp_net_ops);
}

module_init(nf_conntrack_ftp_init);
module_exit(nf_conntrack_ftp_fini);
