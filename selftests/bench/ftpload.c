// SPDX-License-Identifier: GPL-2.0
/*
 * Load generator and sink for the FTP helper benchmark (selftests/bench).
 *
 *   ftpload sink -b ADDR -p PORT [-t SECS]
 *	Accept every connection on ADDR:PORT and discard what arrives
 *	(recv with MSG_TRUNC: nothing is copied).  A connection is closed
 *	when its peer closes it; idle ones are held open.  Runs until
 *	SIGTERM or for at most SECS seconds (default 900).
 *
 *   ftpload scan -c ADDR -p PORT -n BYTES [-t SECS]
 *	One connection; write at least BYTES of FTP command lines in
 *	256 KiB writes (the kernel cuts them as it likes: the "natural"
 *	segmentation), shut down the sending side and wait until the sink
 *	has closed, so that every byte was delivered.
 *
 *   ftpload scan -c ADDR -p PORT -l LINES [-t SECS]
 *	The same with TCP_NODELAY and one write per line, each sent before
 *	the next is written (SIOCOUTQNSD): one line per segment, unless
 *	retransmitted.
 *
 *	Both print one line:
 *	bytes=B lines=L secs=S segs=G retrans=R
 *	where secs is from the connection's establishment to the sink's
 *	close, segs and retrans the sender's tcpi_segs_out and
 *	tcpi_total_retrans.
 *
 *   ftpload hold -c ADDR -p PORT -n CONNS [-t SECS]
 *	Open CONNS connections, send one complete command line on each,
 *	print "ready CONNS" and hold them until standard input reaches end
 *	of file (or SECS seconds, default 300, have passed); then reset
 *	them all (SO_LINGER 0: no TIME_WAIT left behind) and exit.
 *
 * Every mode bounds its run time with alarm(): a stuck run dies with
 * SIGALRM, a non-zero status.
 *
 * The command mix is in mix.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <linux/tcp.h>

#include "mix.h"

#define mix bench_mix
#define MIX_LINES BENCH_MIX_LINES

#define WRITE_SIZE	(256 * 1024)
#define SINK_EVENTS	256
#define SINK_RECV	(4 * 1024 * 1024)

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ftpload sink -b ADDR -p PORT [-t SECS]\n"
		"       ftpload scan -c ADDR -p PORT (-n BYTES | -l LINES) [-t SECS]\n"
		"       ftpload hold -c ADDR -p PORT -n CONNS [-t SECS]\n");
	exit(2);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void set_addr(struct sockaddr_in *sin, const char *addr, int port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1) {
		fprintf(stderr, "ftpload: bad IPv4 address %s\n", addr);
		exit(2);
	}
}

/* Enough descriptors for @n sockets, or as many as we may have. */
static void want_files(unsigned long n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit");
	if (rl.rlim_cur >= n + 64)
		return;
	rl.rlim_cur = n + 64;
	if (rl.rlim_max < rl.rlim_cur)
		rl.rlim_max = rl.rlim_cur;
	if (!setrlimit(RLIMIT_NOFILE, &rl))
		return;
	/* Not root enough: the hard limit it is. */
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static int connect_to(const struct sockaddr_in *sin)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)))
		die("connect");
	return fd;
}

static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		p += n;
		len -= n;
	}
}

/* ---------------------------------------------------------------- sink */

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int sink(const char *addr, int port)
{
	struct epoll_event ev, evs[SINK_EVENTS];
	struct sockaddr_in sin;
	int lfd, ep, one = 1, rcvbuf = SINK_RECV;
	char *buf;

	want_files(65536);
	buf = malloc(SINK_RECV);
	if (!buf)
		die("malloc");
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);

	set_addr(&sin, addr, port);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Accepted sockets inherit it; root may exceed rmem_max. */
	if (setsockopt(lfd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)))
		die("bind");
	if (listen(lfd, 4096))
		die("listen");

	ep = epoll_create1(0);
	if (ep < 0)
		die("epoll_create1");
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev))
		die("epoll_ctl");

	while (!stop) {
		int i, n = epoll_wait(ep, evs, SINK_EVENTS, 1000);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			ssize_t got;

			if (fd == lfd) {
				int c, burst;

				/* Bounded: the rest waits for the next round. */
				for (burst = 0; burst < 1024; burst++) {
					c = accept4(lfd, NULL, NULL,
						    SOCK_NONBLOCK);
					if (c < 0)
						break;
					ev.events = EPOLLIN;
					ev.data.fd = c;
					if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev))
						die("epoll_ctl");
				}
				continue;
			}
			/* Drain what is there now, a bounded number of calls. */
			for (int k = 0; k < 64; k++) {
				got = recv(fd, buf, SINK_RECV, MSG_TRUNC);
				if (got > 0)
					continue;
				if (got < 0 && (errno == EAGAIN || errno == EINTR))
					break;
				/* End of file, reset or error: done with it. */
				close(fd);
				break;
			}
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- scan */

static int scan(const char *addr, int port, unsigned long long bytes,
		unsigned long long lines)
{
	unsigned long long sent = 0, nlines = 0;
	struct tcp_info ti;
	socklen_t tilen = sizeof(ti);
	struct sockaddr_in sin;
	size_t blk = 0, len;
	double t0, t1;
	char *buf, tmp[256];
	unsigned int i;
	int fd, one = 1;

	for (i = 0; i < MIX_LINES; i++)
		blk += strlen(mix[i]);

	set_addr(&sin, addr, port);
	fd = connect_to(&sin);
	t0 = now();

	if (lines) {
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
			die("TCP_NODELAY");
		for (nlines = 0; nlines < lines; nlines++) {
			const char *l = mix[nlines % MIX_LINES];
			int unsent;

			len = strlen(l);
			write_all(fd, l, len);
			sent += len;
			/*
			 * Let it leave alone: wait until nothing is left
			 * unsent, or the next line would join it.
			 */
			while (!ioctl(fd, SIOCOUTQNSD, &unsent) && unsent > 0)
				sched_yield();
		}
	} else {
		/* A whole number of blocks: every write ends a line. */
		size_t reps = WRITE_SIZE / blk;

		len = reps * blk;
		buf = malloc(len);
		if (!buf)
			die("malloc");
		for (size_t off = 0, r = 0; r < reps; r++)
			for (i = 0; i < MIX_LINES; i++) {
				memcpy(buf + off, mix[i], strlen(mix[i]));
				off += strlen(mix[i]);
			}
		while (sent < bytes) {
			write_all(fd, buf, len);
			sent += len;
			nlines += reps * MIX_LINES;
		}
		free(buf);
	}

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tilen))
		die("TCP_INFO");
	if (shutdown(fd, SHUT_WR))
		die("shutdown");
	/* The sink closes once it has read everything up to our FIN. */
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));

		if (n == 0)
			break;
		if (n < 0 && errno != EINTR) {
			if (errno == ECONNRESET)
				break;
			die("read");
		}
	}
	t1 = now();
	/* Segments sent after the snapshot: at most the FIN. */
	printf("bytes=%llu lines=%llu secs=%.6f segs=%u retrans=%u\n",
	       sent, nlines, t1 - t0, ti.tcpi_segs_out, ti.tcpi_total_retrans);
	close(fd);
	return 0;
}

/* ---------------------------------------------------------------- hold */

static int hold(const char *addr, int port, unsigned long conns)
{
	static const char line[] = "USER anonymous\r\n";
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_in sin;
	unsigned long i;
	char tmp[64];
	int *fds;

	want_files(conns);
	fds = calloc(conns, sizeof(*fds));
	if (!fds)
		die("calloc");
	set_addr(&sin, addr, port);
	for (i = 0; i < conns; i++) {
		fds[i] = connect_to(&sin);
		write_all(fds[i], line, sizeof(line) - 1);
		if (setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
			die("SO_LINGER");
	}
	printf("ready %lu\n", conns);
	fflush(stdout);

	while (read(0, tmp, sizeof(tmp)) > 0)
		;
	for (i = 0; i < conns; i++)
		close(fds[i]);
	free(fds);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode, *bind_addr = NULL, *peer = NULL;
	unsigned long long n = 0, lines = 0;
	unsigned int secs = 0;
	int port = 0, opt;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "b:c:p:n:l:t:")) != -1) {
		switch (opt) {
		case 'b': bind_addr = optarg; break;
		case 'c': peer = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'n': n = strtoull(optarg, NULL, 0); break;
		case 'l': lines = strtoull(optarg, NULL, 0); break;
		case 't': secs = atoi(optarg); break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535)
		usage();
	signal(SIGPIPE, SIG_IGN);

	if (!strcmp(mode, "sink")) {
		if (!bind_addr)
			usage();
		alarm(secs ? secs : 900);
		return sink(bind_addr, port);
	}
	if (!strcmp(mode, "scan")) {
		if (!peer || (!n == !lines))
			usage();
		alarm(secs ? secs : 300);
		return scan(peer, port, n, lines);
	}
	if (!strcmp(mode, "hold")) {
		if (!peer || !n || n > 60000)
			usage();
		alarm(secs ? secs : 300);
		return hold(peer, port, n);
	}
	usage();
	return 2;
}
