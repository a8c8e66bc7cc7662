// SPDX-License-Identifier: GPL-2.0
/*
 * ctexpect - dump and watch conntrack expectations for the selftests.
 *
 *   ctexpect dump  [FILTER]...
 *   ctexpect count [FILTER]...
 *   ctexpect watch [--timeout SECONDS] [--count N] [--ready FILE] [FILTER]...
 *   ctexpect wait  --dport PORT [--timeout SECONDS] [FILTER]...
 *
 *   FILTER: --family ipv4|ipv6, --helper NAME, --dport PORT
 *
 * One line per expectation, fields always present and always in this order:
 *
 *   expect family=ipv4 proto=tcp helper=ftp class=0 timeout=297
 *     master=192.0.2.2:40000->198.51.100.2:21
 *     expected=198.51.100.2:0->192.0.2.2:50001
 *     mask_src=255.255.255.255 mask_src_port=0 flags=0x0 zone=0
 *     nat=- nat_dir=-
 *
 * (printed on a single line).  IPv6 addresses are in RFC 5952 text,
 * bracketed when a port follows: [2001:db8::1]:21.  A missing attribute
 * prints as "-".  Ports are in host order; mask_src_port=0 means "any
 * source port".  nat= is the saved address:port of an expectation set up
 * by a NAT helper (0.0.0.0 when only the port is saved), nat_dir= is
 * orig|reply.  Events prefix the line with "[NEW] ", "[UPDATE] " or
 * "[DESTROY] " (the kernel reports NEW and DESTROY only).  --ready FILE
 * creates FILE once watch is subscribed, so a test can start it in the
 * background and wait for the file instead of sleeping.
 *
 * Exit status: 0 ok (watch: at least one event; wait: found), 1 watch saw
 * no event or wait timed out, 2 usage or netlink error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#define PROG			"ctexpect"
#define LINE_MAX_LEN		1024
#define DEFAULT_TIMEOUT		10.0
#define WAIT_INTERVAL_MS	100
#define EVENT_RCVBUF		(1 << 20)

enum mode {
	MODE_DUMP,
	MODE_COUNT,
	MODE_WATCH,
	MODE_WAIT,
};

/* Options, as a bit mask of which mode accepts which. */
enum {
	OPT_FAMILY	= 1 << 0,
	OPT_HELPER	= 1 << 1,
	OPT_DPORT	= 1 << 2,
	OPT_TIMEOUT	= 1 << 3,
	OPT_COUNT	= 1 << 4,
	OPT_READY	= 1 << 5,
};

#define OPT_FILTERS	(OPT_FAMILY | OPT_HELPER | OPT_DPORT)

struct state {
	enum mode mode;
	/* filters; 0 / NULL / -1 means "any" */
	uint8_t family;
	const char *helper;
	int dport;
	/* watch / wait */
	double timeout;
	unsigned long max_events;
	const char *ready_file;
	/* results */
	unsigned long matched;
	int found;
	char line[LINE_MAX_LEN];
};

static void usage(void) __attribute__((noreturn));

static void usage(void)
{
	fprintf(stderr,
		"usage: " PROG " dump  [FILTER]...\n"
		"       " PROG " count [FILTER]...\n"
		"       " PROG " watch [--timeout SECONDS] [--count N]"
		" [--ready FILE]\n"
		"                      [FILTER]...\n"
		"       " PROG " wait  --dport PORT [--timeout SECONDS]"
		" [FILTER]...\n"
		"FILTER: --family ipv4|ipv6  --helper NAME  --dport PORT\n"
		"--timeout defaults to %g seconds (watch, wait); --ready FILE\n"
		"is created once watch listens for events.\n"
		"Exit: 0 ok, 1 no event (watch) / not found (wait), 2 error.\n",
		DEFAULT_TIMEOUT);
	exit(2);
}

static void usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	usage();
}

static void fatal_errno(const char *what) __attribute__((noreturn));

static void fatal_errno(const char *what)
{
	fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
	exit(2);
}

/* Bounded append to a fixed buffer; silently truncates. */
struct buf {
	char *p;
	size_t len;
	size_t size;
};

static void bprintf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len >= b->size - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->size - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	b->len += (size_t)n;
	if (b->len >= b->size)
		b->len = b->size - 1;
}

static const char *family_name(uint8_t family)
{
	switch (family) {
	case AF_INET:
		return "ipv4";
	case AF_INET6:
		return "ipv6";
	default:
		return NULL;
	}
}

static const char *l4_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_UDPLITE:
		return "udplite";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_DCCP:
		return "dccp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	case IPPROTO_GRE:
		return "gre";
	default:
		return NULL;
	}
}

static int ct_isset(const struct nf_conntrack *ct, enum nf_conntrack_attr a)
{
	return ct && nfct_attr_is_set(ct, a) > 0;
}

static int exp_isset(const struct nf_expect *exp, enum nf_expect_attr a)
{
	return nfexp_attr_is_set(exp, a) > 0;
}

static const struct nf_conntrack *exp_ct(const struct nf_expect *exp,
					 enum nf_expect_attr a)
{
	if (!exp_isset(exp, a))
		return NULL;
	return nfexp_get_attr(exp, a);
}

/* The expectation's layer 3 family, or 0 if unknown. */
static uint8_t exp_family(const struct nf_expect *exp)
{
	static const enum nf_expect_attr objs[] = {
		ATTR_EXP_MASTER, ATTR_EXP_EXPECTED, ATTR_EXP_MASK,
	};
	const struct nf_conntrack *ct;
	size_t i;

	for (i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		ct = exp_ct(exp, objs[i]);
		if (ct_isset(ct, ATTR_ORIG_L3PROTO))
			return nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
	}
	return 0;
}

/*
 * Address of the original tuple of @ct ("-" if absent); IPv6 addresses
 * are bracketed when a port follows (@bracket).
 */
static void put_addr(struct buf *b, const struct nf_conntrack *ct,
		     uint8_t family, int src, int bracket)
{
	enum nf_conntrack_attr a;
	char text[INET6_ADDRSTRLEN];
	const void *p;

	if (family == AF_INET)
		a = src ? ATTR_ORIG_IPV4_SRC : ATTR_ORIG_IPV4_DST;
	else if (family == AF_INET6)
		a = src ? ATTR_ORIG_IPV6_SRC : ATTR_ORIG_IPV6_DST;
	else
		goto missing;
	if (!ct_isset(ct, a))
		goto missing;
	p = nfct_get_attr(ct, a);
	if (!p || !inet_ntop(family, p, text, sizeof(text)))
		goto missing;
	if (family == AF_INET6 && bracket)
		bprintf(b, "[%s]", text);
	else
		bprintf(b, "%s", text);
	return;
missing:
	bprintf(b, "-");
}

static void put_port(struct buf *b, const struct nf_conntrack *ct, int src)
{
	enum nf_conntrack_attr a;

	a = src ? ATTR_ORIG_PORT_SRC : ATTR_ORIG_PORT_DST;
	if (ct_isset(ct, a))
		bprintf(b, "%u", ntohs(nfct_get_attr_u16(ct, a)));
	else
		bprintf(b, "-");
}

/* "src:sport->dst:dport" of the original tuple of @ct. */
static void put_tuple(struct buf *b, const struct nf_conntrack *ct,
		      uint8_t family)
{
	if (!ct) {
		bprintf(b, "-");
		return;
	}
	put_addr(b, ct, family, 1, 1);
	bprintf(b, ":");
	put_port(b, ct, 1);
	bprintf(b, "->");
	put_addr(b, ct, family, 0, 1);
	bprintf(b, ":");
	put_port(b, ct, 0);
}

static void put_u32(struct buf *b, const struct nf_expect *exp,
		    enum nf_expect_attr a, const char *fmt)
{
	if (exp_isset(exp, a))
		bprintf(b, fmt, nfexp_get_attr_u32(exp, a));
	else
		bprintf(b, "-");
}

static void format_exp(const struct nf_expect *exp, const char *prefix,
		       char *out, size_t size)
{
	const struct nf_conntrack *master = exp_ct(exp, ATTR_EXP_MASTER);
	const struct nf_conntrack *expected = exp_ct(exp, ATTR_EXP_EXPECTED);
	const struct nf_conntrack *mask = exp_ct(exp, ATTR_EXP_MASK);
	const struct nf_conntrack *nat = exp_ct(exp, ATTR_EXP_NAT_TUPLE);
	const struct nf_conntrack *l4 = expected ? expected : master;
	uint8_t family = exp_family(exp);
	struct buf b = { .p = out, .len = 0, .size = size };
	const char *name;
	const char *helper;

	out[0] = '\0';
	bprintf(&b, "%sexpect", prefix);

	name = family_name(family);
	if (name)
		bprintf(&b, " family=%s", name);
	else
		bprintf(&b, " family=%u", family);

	bprintf(&b, " proto=");
	if (ct_isset(l4, ATTR_ORIG_L4PROTO)) {
		uint8_t proto = nfct_get_attr_u8(l4, ATTR_ORIG_L4PROTO);

		name = l4_name(proto);
		if (name)
			bprintf(&b, "%s", name);
		else
			bprintf(&b, "%u", proto);
	} else {
		bprintf(&b, "-");
	}

	helper = exp_isset(exp, ATTR_EXP_HELPER_NAME) ?
		 nfexp_get_attr(exp, ATTR_EXP_HELPER_NAME) : NULL;
	bprintf(&b, " helper=%s", helper && helper[0] ? helper : "-");

	bprintf(&b, " class=");
	put_u32(&b, exp, ATTR_EXP_CLASS, "%u");
	bprintf(&b, " timeout=");
	put_u32(&b, exp, ATTR_EXP_TIMEOUT, "%u");

	bprintf(&b, " master=");
	put_tuple(&b, master, family);
	bprintf(&b, " expected=");
	put_tuple(&b, expected, family);

	bprintf(&b, " mask_src=");
	if (mask)
		put_addr(&b, mask, family, 1, 0);
	else
		bprintf(&b, "-");
	bprintf(&b, " mask_src_port=");
	if (mask)
		put_port(&b, mask, 1);
	else
		bprintf(&b, "-");

	bprintf(&b, " flags=");
	put_u32(&b, exp, ATTR_EXP_FLAGS, "0x%x");

	/* The kernel omits the zone when it is the default one. */
	bprintf(&b, " zone=%u", exp_isset(exp, ATTR_EXP_ZONE) ?
		nfexp_get_attr_u16(exp, ATTR_EXP_ZONE) : 0);

	bprintf(&b, " nat=");
	if (nat) {
		put_addr(&b, nat, family, 1, 1);
		bprintf(&b, ":");
		put_port(&b, nat, 1);
	} else {
		bprintf(&b, "-");
	}
	bprintf(&b, " nat_dir=");
	if (exp_isset(exp, ATTR_EXP_NAT_DIR)) {
		uint8_t dir = nfexp_get_attr_u8(exp, ATTR_EXP_NAT_DIR);

		if (dir == 0)
			bprintf(&b, "orig");
		else if (dir == 1)
			bprintf(&b, "reply");
		else
			bprintf(&b, "%u", dir);
	} else {
		bprintf(&b, "-");
	}
}

static int exp_matches(const struct state *st, const struct nf_expect *exp)
{
	const struct nf_conntrack *expected;
	const char *helper;

	if (st->family && exp_family(exp) != st->family)
		return 0;
	if (st->helper) {
		if (!exp_isset(exp, ATTR_EXP_HELPER_NAME))
			return 0;
		helper = nfexp_get_attr(exp, ATTR_EXP_HELPER_NAME);
		if (!helper || strcmp(helper, st->helper) != 0)
			return 0;
	}
	if (st->dport >= 0) {
		expected = exp_ct(exp, ATTR_EXP_EXPECTED);
		if (!ct_isset(expected, ATTR_ORIG_PORT_DST))
			return 0;
		if (ntohs(nfct_get_attr_u16(expected, ATTR_ORIG_PORT_DST)) !=
		    st->dport)
			return 0;
	}
	return 1;
}

static int dump_cb(enum nf_conntrack_msg_type type, struct nf_expect *exp,
		   void *data)
{
	struct state *st = data;

	(void)type;
	if (!exp_matches(st, exp))
		return NFCT_CB_CONTINUE;
	st->matched++;

	switch (st->mode) {
	case MODE_DUMP:
		format_exp(exp, "", st->line, sizeof(st->line));
		printf("%s\n", st->line);
		break;
	case MODE_WAIT:
		/* Keep the first match; the dump must still be drained. */
		if (!st->found) {
			format_exp(exp, "", st->line, sizeof(st->line));
			st->found = 1;
		}
		break;
	default:
		break;
	}
	return NFCT_CB_CONTINUE;
}

static int event_cb(enum nf_conntrack_msg_type type, struct nf_expect *exp,
		    void *data)
{
	struct state *st = data;
	const char *prefix;

	switch (type) {
	case NFCT_T_NEW:
		prefix = "[NEW] ";
		break;
	case NFCT_T_UPDATE:
		prefix = "[UPDATE] ";
		break;
	case NFCT_T_DESTROY:
		prefix = "[DESTROY] ";
		break;
	default:
		prefix = "[UNKNOWN] ";
		break;
	}
	if (!exp_matches(st, exp))
		return NFCT_CB_CONTINUE;

	format_exp(exp, prefix, st->line, sizeof(st->line));
	printf("%s\n", st->line);
	st->matched++;
	if (st->max_events && st->matched >= st->max_events)
		return NFCT_CB_STOP;
	return NFCT_CB_CONTINUE;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Milliseconds left until @deadline, rounded up, at least 0. */
static int ms_left(double deadline)
{
	double left = (deadline - now()) * 1000.0;
	int ms;

	if (left <= 0)
		return 0;
	if (left > 86400.0 * 1000.0)
		return 86400 * 1000;
	ms = (int)left;
	if (ms < left)
		ms++;
	return ms;
}

static struct nfct_handle *open_handle(unsigned int groups)
{
	struct nfct_handle *h;

	h = nfct_open(EXPECT, groups);
	if (!h)
		fatal_errno("cannot open netlink");
	return h;
}

static void query_dump(struct nfct_handle *h, struct state *st)
{
	/* nfexp_query() reads the family from a 32-bit word. */
	uint32_t family = st->family;

	if (nfexp_query(h, NFCT_Q_DUMP, &family) == -1) {
		/* nfnetlink answers EINVAL when ctnetlink is not there. */
		if (errno == EINVAL || errno == ENOENT || errno == EOPNOTSUPP)
			fatal_errno("cannot dump expectations (is nf_conntrack_netlink loaded?)");
		fatal_errno("cannot dump expectations");
	}
}

static int run_dump(struct state *st)
{
	struct nfct_handle *h = open_handle(0);

	if (nfexp_callback_register(h, NFCT_T_ALL, dump_cb, st) == -1)
		fatal_errno("cannot register callback");
	query_dump(h, st);
	if (st->mode == MODE_COUNT)
		printf("%lu\n", st->matched);
	nfexp_callback_unregister(h);
	nfct_close(h);
	return 0;
}

static int run_wait(struct state *st)
{
	struct nfct_handle *h = open_handle(0);
	double deadline = now() + st->timeout;
	struct timespec ts;
	int ms;

	if (nfexp_callback_register(h, NFCT_T_ALL, dump_cb, st) == -1)
		fatal_errno("cannot register callback");
	for (;;) {
		query_dump(h, st);
		if (st->found)
			break;
		ms = ms_left(deadline);
		if (ms == 0)
			break;
		if (ms > WAIT_INTERVAL_MS)
			ms = WAIT_INTERVAL_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)ms * 1000000L;
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	}
	nfexp_callback_unregister(h);
	nfct_close(h);

	if (!st->found) {
		fprintf(stderr, PROG ": no matching expectation after %gs\n",
			st->timeout);
		return 1;
	}
	printf("%s\n", st->line);
	return 0;
}

static void touch_ready(const char *path)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		fprintf(stderr, PROG ": cannot create %s: %s\n", path,
			strerror(errno));
		exit(2);
	}
	close(fd);
}

static int run_watch(struct state *st)
{
	struct nfct_handle *h;
	double deadline;
	struct pollfd pfd;
	int rcvbuf = EVENT_RCVBUF;
	int fd, flags, ret;

	h = open_handle(NF_NETLINK_CONNTRACK_EXP_NEW |
			NF_NETLINK_CONNTRACK_EXP_UPDATE |
			NF_NETLINK_CONNTRACK_EXP_DESTROY);
	if (nfexp_callback_register(h, NFCT_T_ALL, event_cb, st) == -1)
		fatal_errno("cannot register callback");

	/*
	 * nfexp_catch() loops on recv() until the callback says stop; a
	 * non-blocking socket makes it return (EAGAIN) once drained, so the
	 * timeout is enforced by poll() alone.
	 */
	fd = nfct_fd(h);
	flags = fcntl(fd, F_GETFL);
	if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		fatal_errno("cannot set netlink socket non-blocking");
	/* Best effort: fewer lost events under bursts. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));

	if (st->ready_file)
		touch_ready(st->ready_file);

	deadline = now() + st->timeout;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (!st->max_events || st->matched < st->max_events) {
		pfd.revents = 0;
		ret = poll(&pfd, 1, ms_left(deadline));
		if (ret == -1) {
			if (errno == EINTR)
				continue;
			fatal_errno("poll");
		}
		if (ret == 0)
			break;
		ret = nfexp_catch(h);
		if (ret == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				fprintf(stderr,
					PROG ": event overrun, events lost\n");
				continue;
			}
			fatal_errno("cannot receive events");
		}
	}
	nfexp_callback_unregister(h);
	nfct_close(h);
	return st->matched ? 0 : 1;
}

static unsigned long parse_ulong(const char *opt, const char *s,
				 unsigned long min, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		usage_error("invalid %s '%s' (expected %lu..%lu)", opt, s,
			    min, max);
	return v;
}

static double parse_seconds(const char *s)
{
	double v;
	char *end;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 86400)
		usage_error("invalid --timeout '%s' (expected 0..86400)", s);
	return v;
}

static const char *opt_name(const struct option *opts, int val)
{
	for (; opts->name; opts++)
		if (opts->val == val)
			return opts->name;
	return "?";
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "family",	required_argument,	NULL, 'f' },
		{ "helper",	required_argument,	NULL, 'H' },
		{ "dport",	required_argument,	NULL, 'p' },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "count",	required_argument,	NULL, 'c' },
		{ "ready",	required_argument,	NULL, 'r' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 },
	};
	static struct state st;
	unsigned int allowed, seen = 0;
	const char *cmd;
	int opt;

	if (argc < 2)
		usage();
	cmd = argv[1];
	if (!strcmp(cmd, "dump")) {
		st.mode = MODE_DUMP;
		allowed = OPT_FILTERS;
	} else if (!strcmp(cmd, "count")) {
		st.mode = MODE_COUNT;
		allowed = OPT_FILTERS;
	} else if (!strcmp(cmd, "watch")) {
		st.mode = MODE_WATCH;
		allowed = OPT_FILTERS | OPT_TIMEOUT | OPT_COUNT | OPT_READY;
	} else if (!strcmp(cmd, "wait")) {
		st.mode = MODE_WAIT;
		allowed = OPT_FILTERS | OPT_TIMEOUT;
	} else if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") ||
		   !strcmp(cmd, "help")) {
		usage();
	} else {
		usage_error("unknown command '%s'", cmd);
	}

	st.dport = -1;
	st.timeout = DEFAULT_TIMEOUT;

	/* Parse the options after the command word. */
	argc--;
	argv++;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		unsigned int bit;

		switch (opt) {
		case 'f':
			bit = OPT_FAMILY;
			if (!strcmp(optarg, "ipv4") || !strcmp(optarg, "inet"))
				st.family = AF_INET;
			else if (!strcmp(optarg, "ipv6") ||
				 !strcmp(optarg, "inet6"))
				st.family = AF_INET6;
			else
				usage_error("invalid --family '%s' (ipv4|ipv6)",
					    optarg);
			break;
		case 'H':
			bit = OPT_HELPER;
			if (!optarg[0])
				usage_error("empty --helper");
			st.helper = optarg;
			break;
		case 'p':
			bit = OPT_DPORT;
			st.dport = (int)parse_ulong("--dport", optarg,
						    0, 65535);
			break;
		case 't':
			bit = OPT_TIMEOUT;
			st.timeout = parse_seconds(optarg);
			break;
		case 'c':
			bit = OPT_COUNT;
			st.max_events = parse_ulong("--count", optarg, 1,
						    1000000000UL);
			break;
		case 'r':
			bit = OPT_READY;
			if (!optarg[0])
				usage_error("empty --ready");
			st.ready_file = optarg;
			break;
		case 'h':
			usage();
		case ':':
			usage_error("option '%s' needs an argument",
				    argv[optind - 1]);
		default:
			if (optopt > 0)
				usage_error("unknown option '-%c'", optopt);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
		if (!(bit & allowed))
			usage_error("option '--%s' not valid with '%s'",
				    opt_name(longopts, opt), cmd);
		seen |= bit;
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (st.mode == MODE_WAIT && !(seen & OPT_DPORT))
		usage_error("wait needs --dport PORT");

	/* Tests read our output through pipes and files: one line at once. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	switch (st.mode) {
	case MODE_DUMP:
	case MODE_COUNT:
		return run_dump(&st);
	case MODE_WATCH:
		return run_watch(&st);
	case MODE_WAIT:
		return run_wait(&st);
	}
	return 2;
}
