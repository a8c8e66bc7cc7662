/* SPDX-License-Identifier: GPL-2.0 */
/*
 * FTP control-channel parser shared by nf_conntrack_ftp.ko and the
 * user-space unit tests and fuzzer.  Nothing in here knows about skbs or
 * conntrack: the module hands in payload bytes, gets back complete lines
 * and, for each line, a verdict.
 *
 * Two layers:
 *
 *  - the line assembler (nf_ftp_next_line/nf_ftp_hold): turns the TCP
 *    payload of one direction, segment by segment, into complete lines.
 *    A line that is not finished at the end of a segment is held in a
 *    caller-owned buffer of NF_FTP_LINE_MAX bytes; a line longer than
 *    that is dropped up to its newline and counted as an overflow.
 *
 *  - the line parser (nf_ftp_parse_line) and the session logic around it
 *    (nf_ftp_process_line): PORT, EPRT, PASV, EPSV, AUTH from the client,
 *    227, 229, 234 and multi-line replies from the server, with the
 *    policy checks (third-party address, low port, reply pairing).
 */
#ifndef _NF_FTP_PARSE_H
#define _NF_FTP_PARSE_H

#include "nf_ftp_shim.h"

/* Longest line we hold across segments, terminator included. */
#define NF_FTP_LINE_MAX		512

/* Direction of a segment, same values as IP_CT_DIR_{ORIGINAL,REPLY}. */
enum nf_ftp_dir {
	NF_FTP_CLIENT = 0,	/* client -> server: commands */
	NF_FTP_SERVER = 1,	/* server -> client: replies */
};

/* What a line is. */
enum nf_ftp_kind {
	NF_FTP_K_NONE = 0,	/* nothing we care about */
	NF_FTP_K_PORT,		/* PORT h1,h2,h3,h4,p1,p2 */
	NF_FTP_K_EPRT,		/* EPRT <d>af<d>addr<d>port<d> */
	NF_FTP_K_227,		/* 227 ... (h1,h2,h3,h4,p1,p2) */
	NF_FTP_K_229,		/* 229 ... (<d><d><d>port<d>) */
	NF_FTP_K_PASV,		/* client PASV */
	NF_FTP_K_EPSV,		/* client EPSV (with or without argument) */
	NF_FTP_K_AUTH,		/* client AUTH TLS / AUTH SSL (and TLS-C, TLS-P) */
	NF_FTP_K_234,		/* server 234: security exchange accepted */
	__NF_FTP_K_MAX
};

/*
 * Why a line that named a data address opened no expectation.  The
 * module keeps a counter for each; values are stable (they index the
 * counter table).
 */
enum nf_ftp_reason {
	NF_FTP_R_OK = 0,
	NF_FTP_R_SYNTAX,	/* malformed argument */
	NF_FTP_R_NUMBER,	/* octet > 255, port 0 or > 65535, digit run too long */
	NF_FTP_R_FAMILY,	/* EPRT address family differs from the connection's */
	NF_FTP_R_THIRD_PARTY,	/* address differs from the sender's and !loose */
	NF_FTP_R_LOW_PORT,	/* port below the configured minimum */
	NF_FTP_R_UNPAIRED,	/* 227 without PASV, 229 without EPSV */
	NF_FTP_R_OVERFLOW,	/* line longer than NF_FTP_LINE_MAX */
	NF_FTP_R_EXPECT,	/* expectation could not be set up (module only) */
	__NF_FTP_R_MAX
};

/* Address, in network byte order; IPv4 uses ip, IPv6 uses ip6. */
union nf_ftp_addr {
	__be32 ip;
	__be32 ip6[4];
};

/* Result of parsing one line. */
struct nf_ftp_match {
	enum nf_ftp_kind kind;
	enum nf_ftp_reason reason;	/* NF_FTP_R_OK unless refused */
	u8 family;			/* NF_FTP_AF_INET{,6}; 0 for 229 */
	union nf_ftp_addr addr;		/* announced address (not for 229) */
	u16 port;			/* announced port, host order */
	/*
	 * The part of the line a NAT helper replaces, as an offset from the
	 * start of the line and a length:
	 *  PORT: "h1,h2,h3,h4,p1,p2"  227: the same six numbers
	 *  EPRT: from the first delimiter to the last one inclusive
	 *  229:  the port digits only
	 */
	u16 off;
	u16 len;
};

#define NF_FTP_AF_INET		4
#define NF_FTP_AF_INET6		6

/* Per-direction flags in struct nf_ftp_state.flags. */
#define NF_FTP_F_DISCARD(d)	(0x0001 << (d))	/* skipping an over-long line */
#define NF_FTP_F_RESYNC(d)	(0x0004 << (d))	/* skip to the next newline */
/*
 * Passing over a line that cannot matter (its first bytes are no verb we
 * look for): held[d] counts its bytes so far, none of them are kept.
 * Set only by nf_ftp_scan_end(); nf_ftp_next_line() finishes such a line.
 */
#define NF_FTP_F_IGNORE(d)	(0x4000 << (d))
/* Session flags. */
#define NF_FTP_F_PASV		0x0010	/* client sent PASV, no 227 yet */
#define NF_FTP_F_EPSV		0x0020	/* client sent EPSV, no 229 yet */
#define NF_FTP_F_AUTH		0x0040	/* client sent AUTH, no answer yet */
#define NF_FTP_F_TLS		0x0080	/* control channel is encrypted */
/* Bits 0x0100..0x3fff are the caller's (the module keeps its own there). */
#define NF_FTP_F_USER_SHIFT	8

/*
 * Everything the parser keeps about one connection.  Lives in the
 * conntrack helper area (32 bytes shared with the module's own fields),
 * hence the tight packing.
 */
struct nf_ftp_state {
	u16 held[2];	/* bytes of an unfinished line held, per direction */
	u16 mlcode;	/* code of the multi-line reply in progress, or 0 */
	u16 flags;	/* NF_FTP_F_* */
};

/* Policy the session logic applies. */
struct nf_ftp_policy {
	bool loose;		/* allow third-party addresses */
	bool pairing;		/* 227 only after PASV, 229 only after EPSV */
	u16 min_port;		/* lowest data port that may be expected */
};

/* A complete line returned by nf_ftp_next_line(). */
struct nf_ftp_line {
	const char *text;	/* the line, terminator ("\n" or "\r\n") excluded */
	unsigned int len;
	/*
	 * Where text[0] is in the current segment's data.  When the line
	 * began in an earlier segment this is negative: minus the number of
	 * bytes that came from earlier segments (text then points into the
	 * hold buffer).
	 */
	int start;
};

/*
 * nf_ftp_next_line - return the next complete line of a segment.
 * @st:   connection state
 * @dir:  direction of the segment
 * @hold: the hold buffer for @dir (NF_FTP_LINE_MAX bytes); may be NULL
 *        while st->held[dir] == 0
 * @data, @len: the segment's payload
 * @pos:  in/out cursor into @data; start at 0
 * @line: filled in when 1 is returned
 * @overflows: incremented for every over-long line dropped
 *
 * Returns 1 with @line set when a line ends in this segment, 0 when the
 * rest of @data (from *pos) is an unfinished line: the caller then passes
 * it to nf_ftp_hold() (after making sure @hold exists) or drops it.
 * A line that continues a held prefix is assembled in @hold.  Lines that
 * lie entirely inside @data are returned in place, without copying.
 * The end of a line passed over (NF_FTP_F_IGNORE) comes back with
 * line->text NULL and line->len 0: count it, there is nothing to parse.
 */
int nf_ftp_next_line(struct nf_ftp_state *st, enum nf_ftp_dir dir,
		     char *hold, const char *data, unsigned int len,
		     unsigned int *pos, struct nf_ftp_line *line,
		     unsigned int *overflows);

/*
 * nf_ftp_hold - keep the unfinished tail of a segment for the next one.
 * Appends @len bytes to @hold.  If the held line would exceed
 * NF_FTP_LINE_MAX it is dropped, the direction skips to the next newline,
 * and 1 is returned (an overflow); otherwise 0.
 */
int nf_ftp_hold(struct nf_ftp_state *st, enum nf_ftp_dir dir, char *hold,
		const char *data, unsigned int len);

/*
 * nf_ftp_resync - forget any held line of @dir and ignore everything up to
 * and including the next newline (used after a sequence gap).
 */
void nf_ftp_resync(struct nf_ftp_state *st, enum nf_ftp_dir dir);

/*
 * nf_ftp_parse_line - classify one line and parse its address and port.
 * @line, @len: the line without its terminator
 * @dir:        who sent it
 * @family:     the control connection's family (NF_FTP_AF_INET{,6})
 * @m:          result; m->kind is NF_FTP_K_NONE for lines of no interest
 *
 * Pure function: no state, no policy.  Verbs and the AUTH argument are
 * case-insensitive.  Returns m->reason (NF_FTP_R_OK when the line is well
 * formed or of no interest).
 */
enum nf_ftp_reason nf_ftp_parse_line(const char *line, unsigned int len,
				     enum nf_ftp_dir dir, u8 family,
				     struct nf_ftp_match *m);

/* Verdict of nf_ftp_process_line(). */
enum nf_ftp_verdict {
	NF_FTP_V_NONE = 0,	/* nothing to do */
	NF_FTP_V_EXPECT,	/* set up an expectation for m->addr/m->port */
	NF_FTP_V_REFUSE,	/* named a data address, refused: m->reason */
};

/*
 * nf_ftp_process_line - parse a line and apply session logic and policy.
 * @sender: the address the line came from (for the third-party check;
 *          a 229 reply takes it as its address)
 *
 * Tracks PASV/EPSV for reply pairing, multi-line replies (only the final
 * line of a reply counts), and AUTH/234 for TLS.  For NF_FTP_V_EXPECT,
 * @m holds the address and port to expect (for 229 the sender's address).
 */
enum nf_ftp_verdict nf_ftp_process_line(struct nf_ftp_state *st,
					enum nf_ftp_dir dir,
					const char *line, unsigned int len,
					u8 family, const union nf_ftp_addr *sender,
					const struct nf_ftp_policy *pol,
					struct nf_ftp_match *m);

/*
 * The fast path for the client direction, for callers whose segment is
 * not contiguous (an skb's pages): scan it in pieces, without copying,
 * and apply the result only if nothing in it needs more than flag
 * updates.  Lines whose first four bytes are none of PORT, EPRT, PASV,
 * EPSV and AUTH (any case) cannot matter to nf_ftp_parse_line() and are
 * only counted; PASV, EPSV and AUTH lines are gathered (up to
 * NF_FTP_SCAN_LINE bytes) and parsed; an unfinished one is held.  A PORT
 * or EPRT line, or a longer PASV/EPSV/AUTH line, ends the scan: the
 * caller then handles the whole segment with nf_ftp_next_line() and
 * friends, as if the scan had not been tried.
 */
#define NF_FTP_SCAN_LINE	64

struct nf_ftp_scan {
	u8 family;
	u8 mode;		/* private */
	u8 have;		/* bytes in buf */
	u16 set;		/* session flags the segment sets */
	u16 skip;		/* skipping flags left at its end */
	unsigned int linelen;	/* bytes of the current line before here */
	unsigned int lines;	/* complete lines examined */
	unsigned int overflows;	/* over-long lines dropped */
	unsigned char buf[NF_FTP_SCAN_LINE];
};

/*
 * nf_ftp_scan_begin - start scanning a client segment.  @st is only read:
 * nothing changes until nf_ftp_scan_end() succeeds.
 */
void nf_ftp_scan_begin(struct nf_ftp_scan *sc, const struct nf_ftp_state *st,
		       const char *hold, u8 family);

/*
 * nf_ftp_scan - scan the next @len bytes of the segment.  Returns 0 to go
 * on, -1 when the segment needs the full path (stop scanning).
 */
int nf_ftp_scan(struct nf_ftp_scan *sc, const char *data, unsigned int len);

/*
 * nf_ftp_scan_tail - bytes of an unfinished line that may still matter,
 * to be kept in the hold buffer by nf_ftp_scan_end(); 0 if none.
 */
unsigned int nf_ftp_scan_tail(const struct nf_ftp_scan *sc);

/*
 * nf_ftp_scan_end - apply a finished scan to @st (and @hold, the client's
 * hold buffer, for a tail).  Returns 0 when done (sc->lines and
 * sc->overflows are then to be counted), -1 when the segment needs the
 * full path; @st and @hold are untouched then.
 */
int nf_ftp_scan_end(struct nf_ftp_scan *sc, struct nf_ftp_state *st,
		    char *hold);

/*
 * nf_ftp_tls_segment - decide what to do with a segment while the control
 * channel is in TLS.  Returns true if the segment is ciphertext and must
 * be skipped.  A segment that starts like plain FTP text (after CCC)
 * leaves TLS mode and returns false.  Always false outside TLS.
 */
bool nf_ftp_tls_segment(struct nf_ftp_state *st, const char *data,
			unsigned int len);

#endif /* _NF_FTP_PARSE_H */
