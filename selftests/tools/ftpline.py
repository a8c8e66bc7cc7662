#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""ftpline - drive single FTP control lines through a real connection.

For the differential selftest (selftests/differential.sh): the conntrack
helper in between sees exactly the session that selftests/unit/ftpparse
plays in user space.  No data connection is ever made.

  ftpline.py server --listen ADDR [--port 21] [--reply TEXT]...
      Accept one control connection, greet it with "220 hi", then answer
      each client line with the next --reply (or "200 ok" once they are
      used up, or for a --reply of "-"); answer QUIT with "221 bye" and
      close.

  ftpline.py client --connect ADDR [--port 21] [--send TEXT]...
      Connect (retrying while the server is not listening yet), read the
      greeting, send each --send and read its reply, then QUIT.  The
      replies are printed, escaped, one line each.

TEXT takes C escapes (\\r \\n \\t \\\\ \\xHH) and goes out with "\\r\\n"
appended, in one send() on a TCP_NODELAY socket: one TCP segment.  Use
--send=TEXT when TEXT starts with "-".

Batch mode, to play many cases without starting a process for each:
with --table TABLE (the format of selftests/differential/lines.txt, see
selftests/unit/ftpparse.c) both sides read case names from stdin, one a
line, and play each case's session: the client sends its CLIENT, the
server answers with its REPLY.  The server listens on every --listen
address (one per family) and takes each case's connection on the address
of the case's family; the client connects to the --connect address of that
family.  Each side prints "ready" once it can take cases, then one line
per case: "NAME ok" or "NAME fail: WHY".  The client's replies go to
stderr.  End of stdin ends the process.

Exit status: 0 session done (batch: stdin ended), 1 failure (timeout,
connection closed early), 2 usage error.
"""

import argparse
import os
import re
import select
import socket
import sys
import time

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2

DEFAULT_REPLY = b"200 ok"
GREETING = b"220 hi"
QUIT = b"QUIT"
BYE = b"221 bye"
MAX_LINE = 4096
# A final reply line: its code, then a space or the end of the line.
FINAL_RE = re.compile(rb"^(\d{3})(?: |$)")
MULTI_RE = re.compile(rb"^(\d{3})-")
ESCAPES = {b"r": b"\r", b"n": b"\n", b"t": b"\t", b"\\": b"\\"}


class FtpError(Exception):
    """Something went wrong on the wire; the message says what."""


def log(prog, msg):
    print(f"ftpline {prog}: {msg}", file=sys.stderr, flush=True)


def unescape(text):
    """Bytes of TEXT with its C escapes decoded (same rules as ftpparse).

    A str TEXT is taken as the bytes it came in on the command line, so
    that a raw non-ASCII byte goes out as it is in the table.
    """
    raw = text if isinstance(text, bytes) else os.fsencode(text)
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i:i + 1] != b"\\":
            out += raw[i:i + 1]
            i += 1
            continue
        e = raw[i + 1:i + 2]
        if e in ESCAPES:
            out += ESCAPES[e]
            i += 2
        elif e == b"x" and re.fullmatch(rb"[0-9a-fA-F]{2}", raw[i + 2:i + 4]):
            out.append(int(raw[i + 2:i + 4], 16))
            i += 4
        else:
            raise ValueError(f"bad escape at offset {i} in {text!r}")
    return bytes(out)


def escape(data):
    """Printable form of DATA for the log."""
    out = []
    for b in data:
        if b == 0x5c:
            out.append("\\\\")
        elif b == 0x0d:
            out.append("\\r")
        elif b == 0x0a:
            out.append("\\n")
        elif 0x20 <= b < 0x7f:
            out.append(chr(b))
        else:
            out.append(f"\\x{b:02x}")
    return "".join(out)


class Conn:
    """A control connection: one segment per line sent, lines read."""

    def __init__(self, sock, timeout):
        self.sock = sock
        self.sock.settimeout(timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send_line(self, data):
        self.sock.sendall(data + b"\r\n")

    def read_line(self):
        """The next line without its terminator; None at end of stream."""
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_LINE:
                raise FtpError("line too long")
            try:
                data = self.sock.recv(4096)
            except socket.timeout as exc:
                raise FtpError("timed out reading") from exc
            if not data:
                if self.buf:
                    raise FtpError("connection closed inside a line")
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line[:-1] if line.endswith(b"\r") else line

    def read_reply(self):
        """The lines of one reply, multi-line ones included."""
        lines = []
        line = self.read_line()
        if line is None:
            raise FtpError("connection closed, reply expected")
        lines.append(line)
        multi = MULTI_RE.match(line)
        while multi:
            line = self.read_line()
            if line is None:
                raise FtpError("connection closed inside a multi-line reply")
            lines.append(line)
            final = FINAL_RE.match(line)
            if final and final.group(1) == multi.group(1):
                break
        return lines

    def close(self):
        self.sock.close()


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def read_table(path):
    """The cases of a table: {NAME: (FAMILY, CLIENT bytes, REPLY bytes)}."""
    cases = {}
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            raw = raw.rstrip(b"\n")
            if not raw or raw.startswith(b"#"):
                continue
            fields = raw.split(b"\t")
            if len(fields) != 4 or not all(fields):
                raise ValueError(f"{path}:{lineno}: want 4 fields")
            name = fields[0].decode("ascii", "replace")
            family = {b"4": socket.AF_INET, b"6": socket.AF_INET6}.get(
                fields[1])
            if name in cases or family is None:
                raise ValueError(f"{path}:{lineno}: bad name or family")
            reply = DEFAULT_REPLY if fields[3] == b"-" else \
                unescape(fields[3])
            cases[name] = (family, unescape(fields[2]), reply)
    return cases


def listen(addr, port):
    srv = socket.socket(family_of(addr), socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(4)
    return srv


def accept(srv, timeout):
    """A connection on the listening socket SRV, within TIMEOUT."""
    ready, _, _ = select.select([srv], [], [], timeout)
    if not ready:
        raise FtpError("no client connected")
    sock, peer = srv.accept()
    return sock, peer


def serve(sock, replies, timeout):
    """The server's side of a session on SOCK: REPLIES in order."""
    replies = list(replies)
    conn = Conn(sock, timeout)
    try:
        conn.send_line(GREETING)
        while True:
            line = conn.read_line()
            if line is None:
                raise FtpError("client left without QUIT")
            if line.strip().upper() == QUIT:
                conn.send_line(BYE)
                break
            conn.send_line(replies.pop(0) if replies else DEFAULT_REPLY)
    finally:
        conn.close()
    if replies:
        raise FtpError(f"{len(replies)} scripted replies not sent")


def connect(addr, port, timeout):
    """Connect, retrying while nothing listens yet (up to TIMEOUT)."""
    deadline = time.monotonic() + timeout
    while True:
        sock = socket.socket(family_of(addr), socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect((addr, port))
            return sock
        except ConnectionRefusedError:
            sock.close()
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)
        except OSError:
            sock.close()
            raise


def play(addr, port, lines, timeout, out):
    """The client's side of a session: LINES, then QUIT; replies to OUT."""
    try:
        conn = Conn(connect(addr, port, timeout), timeout)
    except OSError as exc:
        raise FtpError(f"cannot connect: {exc}") from exc
    try:
        for reply in conn.read_reply():
            print(escape(reply), file=out)
        for line in list(lines) + [QUIT]:
            conn.send_line(line)
            # one reply for each line of a multi-line TEXT
            for _ in range(line.count(b"\n") + 1):
                for reply in conn.read_reply():
                    print(escape(reply), file=out)
        if conn.read_line() is not None:
            raise FtpError("server sent more than its replies")
    finally:
        conn.close()
        out.flush()


def one_address(args, addrs):
    if len(addrs) != 1:
        raise ValueError(f"{args.mode}: exactly one address without --table")
    return addrs[0]


def by_family(addrs):
    """{family: address}, at most one address per family."""
    out = {}
    for addr in addrs:
        family = family_of(addr)
        if family in out:
            raise ValueError(f"two addresses of the family of {addr}")
        out[family] = addr
    return out


def batch(prog, play_case):
    """Play the cases named on stdin; report each on stdout."""
    print("ready", flush=True)
    while True:
        name = sys.stdin.readline()
        if not name:
            return
        name = name.strip()
        try:
            play_case(name)
        except (FtpError, OSError, KeyError) as exc:
            log(prog, f"{name}: {exc!r}")
            print(f"{name} fail: {exc!r}", flush=True)
        else:
            print(f"{name} ok", flush=True)


def run_server(args):
    if not args.table:
        replies = [DEFAULT_REPLY if r == "-" else unescape(r)
                   for r in args.reply]
        srv = listen(one_address(args, args.listen), args.port)
        try:
            sock, peer = accept(srv, args.timeout)
        finally:
            srv.close()
        serve(sock, replies, args.timeout)
        log("server", f"session with {peer[0]} done")
        return

    cases = read_table(args.table)
    socks = {family: listen(addr, args.port)
             for family, addr in by_family(args.listen).items()}

    def play_case(name):
        family, _, reply = cases[name]
        sock, _ = accept(socks[family], args.timeout)
        serve(sock, [reply], args.timeout)

    batch("server", play_case)


def run_client(args):
    if not args.table:
        play(one_address(args, args.connect), args.port,
             [unescape(s) for s in args.send], args.timeout, sys.stdout)
        return

    cases = read_table(args.table)
    addrs = by_family(args.connect)

    def play_case(name):
        family, client, _ = cases[name]
        play(addrs[family], args.port, [client], args.timeout, sys.stderr)

    batch("client", play_case)


def main():
    ap = argparse.ArgumentParser(prog="ftpline.py",
                                 description="drive FTP control lines")
    sub = ap.add_subparsers(dest="mode", required=True)
    sp = sub.add_parser("server", help="scripted replies")
    sp.add_argument("--listen", action="append", required=True)
    sp.add_argument("--reply", action="append", default=[])
    cp = sub.add_parser("client", help="scripted commands")
    cp.add_argument("--connect", action="append", required=True)
    cp.add_argument("--send", action="append", default=[])
    for p in (sp, cp):
        p.add_argument("--port", type=int, default=21)
        p.add_argument("--timeout", type=float, default=10.0)
        p.add_argument("--table", help="batch mode: cases from TABLE")
    args = ap.parse_args()

    try:
        if args.mode == "server":
            run_server(args)
        else:
            run_client(args)
    except ValueError as exc:
        log(args.mode, str(exc))
        return EXIT_USAGE
    except (FtpError, OSError) as exc:
        log(args.mode, str(exc))
        return EXIT_FAIL
    sys.stdout.flush()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
