#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""ftpseg - an FTP peer that decides how its lines are cut into TCP segments.

For the FTP conntrack helper selftests: every chunk is written with its own
send() on a TCP_NODELAY socket, followed by a short pause, so that each one
leaves as a TCP segment of its own.

  ftpseg.py client --server ADDR --mode port|eprt|pasv|epsv|none [...]
      Log in (anonymous), send optional extra lines, then the data command
      cut at --split, RETR the file and print "sha256 <hex>" of the data.
      Active modes listen on --data-port and wait for the server to connect;
      passive modes connect to the address and port of the 227/229 reply.

  ftpseg.py server --listen ADDR [--port 21] [...]
      A minimal FTP server for what vsftpd cannot do: 227/229 replies cut at
      --split, unsolicited 227, low announced ports, AUTH TLS -> 234,
      multi-line replies, greeting sent late.  Serves --file on RETR in
      passive and active mode, then exits after --sessions sessions.

Custody checks (selftests/custody.sh): --record FILE makes either side
write every line it receives to FILE (the server: FILE.N for session N), and
--sent FILE every line it sends, one Python bytes literal a line, so that a
test can compare the exact byte streams.  --between CMD runs a shell
command after the first piece of the cut data command (or 227/229 reply)
went out and before the rest, so the test can act on the firewall while a
line is half through it.

Split specifications (--split, --pre-split): "none", "all" (one byte per
segment), "every:N" or a list of byte offsets "2,7,13" into the bytes sent
(the line including its CRLF; for client --with, the whole bundle).

Exit status: 0 transfer (or announce) done, 1 failure, 2 usage error.
"""

import argparse
import hashlib
import ipaddress
import os
import re
import socket
import sys
import time

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2


class FtpError(Exception):
    """Something went wrong on the wire; the message says what."""


def log(prog, msg):
    print(f"ftpseg {prog}: {msg}", file=sys.stderr, flush=True)


def parse_split(spec, length):
    """Cut offsets (0 < off < length) for a split specification."""
    if spec in (None, "", "none"):
        return []
    if spec == "all":
        return list(range(1, length))
    if spec.startswith("every:"):
        step = int(spec[6:])
        if step < 1:
            raise ValueError(f"bad split step in {spec!r}")
        return list(range(step, length, step))
    cuts = sorted({int(x) for x in spec.split(",") if x.strip()})
    for off in cuts:
        if not 0 < off < length:
            raise ValueError(f"split offset {off} outside 1..{length - 1}")
    return cuts


def cut(data, cuts):
    """Split data at the given offsets."""
    pieces, last = [], 0
    for off in cuts:
        pieces.append(data[last:off])
        last = off
    pieces.append(data[last:])
    return [p for p in pieces if p]


class Conn:
    """A control connection: segment-exact writes and an FTP reply reader."""

    def __init__(self, sock, gap, timeout, name, record=None, sent=None):
        self.sock = sock
        self.gap = gap
        self.name = name
        self.record = open(record, "w") if record else None
        self.sent = open(sent, "w") if sent else None
        self.buf = b""
        self.buf_fresh = False  # buf starts where a recv() chunk started
        self.fresh = False      # the last line began a recv() chunk
        sock.settimeout(timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @staticmethod
    def _write_lines(f, data):
        """Each line of data (with its terminator) as a bytes literal."""
        if f:
            for m in re.finditer(rb"[^\n]*\n|[^\n]+$", data):
                f.write(repr(m.group(0)) + "\n")
            f.flush()

    def send(self, data, cuts=(), between=None):
        """Send data, one segment per piece, pausing after each.  The log
        says how many pieces end inside a line: each is a line the
        helper has to carry over to the next segment.  between, if
        given, is called once, after the first piece."""
        self._write_lines(self.sent, data)
        pieces = cut(data, cuts)
        midline = sum(1 for p in pieces if not p.endswith(b"\n"))
        shown = data if len(data) <= 80 else data[:60] + b"..."
        log(self.name, f"-> {shown!r} ({len(data)} bytes) in {len(pieces)} "
            f"segments, {midline} mid-line")
        for i, piece in enumerate(pieces):
            self.sock.sendall(piece)
            time.sleep(self.gap)
            if i == 0 and between and len(pieces) > 1:
                between()

    def line(self):
        """Next line without its terminator, as text; None on EOF."""
        while b"\n" not in self.buf:
            try:
                more = self.sock.recv(4096)
            except socket.timeout:
                raise FtpError(f"{self.name}: timed out waiting for a line")
            if not more:
                if self.buf and self.record:
                    self.record.write(repr(self.buf) + " (unterminated)\n")
                    self.record.flush()
                    self.buf = b""
                return None
            if not self.buf:
                self.buf_fresh = True
            self.buf += more
        raw, self.buf = self.buf.split(b"\n", 1)
        self._write_lines(self.record, raw + b"\n")
        self.fresh, self.buf_fresh = self.buf_fresh, False
        return raw.rstrip(b"\r").decode("latin-1")

    def reply(self):
        """Read one (possibly multi-line) reply: (code, last line)."""
        first = self.line()
        if first is None:
            raise FtpError(f"{self.name}: connection closed, no reply")
        log(self.name, f"<- {first}")
        m = re.match(r"(\d{3})([ -]?)", first)
        if not m:
            raise FtpError(f"{self.name}: not a reply: {first!r}")
        code, last = m.group(1), first
        if m.group(2) == "-":
            while not (last.startswith(code + " ") or last == code):
                last = self.line()
                if last is None:
                    raise FtpError(f"{self.name}: EOF in multi-line reply")
                log(self.name, f"<- {last}")
        return int(code), last

    def drain(self, quiet):
        """Discard whatever arrives until nothing comes for quiet seconds."""
        self.sock.settimeout(quiet)
        try:
            while True:
                more = self.sock.recv(4096)
                if not more:
                    break
                self.buf += more
        except socket.timeout:
            pass
        for text in self.buf.decode("latin-1").splitlines():
            log(self.name, f"<- {text} (drained)")
        self.buf = b""


def run_hook(prog, cmd, sock, pause=0.0):
    """Run the shell command cmd (bash) with the control connection's
    addresses in FTPSEG_SRC/FTPSEG_SPORT (this end) and FTPSEG_DST/
    FTPSEG_DPORT (the peer), then wait pause seconds."""
    if not cmd:
        return
    import subprocess
    me, peer = sock.getsockname(), sock.getpeername()
    env = dict(os.environ, FTPSEG_SRC=str(me[0]), FTPSEG_SPORT=str(me[1]),
               FTPSEG_DST=str(peer[0]), FTPSEG_DPORT=str(peer[1]))
    log(prog, f"hook: {cmd}")
    res = subprocess.run(["bash", "-c", cmd], env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for text in res.stdout.decode("latin-1").splitlines():
        log(prog, f"hook| {text}")
    log(prog, f"hook exit {res.returncode}")
    if pause:
        time.sleep(pause)


def mss_filler(sock, rest):
    """NOOP lines that, followed by rest bytes, fill exactly one MSS."""
    mss = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
    room = mss - rest
    lines = []
    while room > 0:
        n = min(room, 100)
        if room - n and room - n < 6:
            n -= 6          # leave room for at least "NOOP\r\n"
        lines.append("NOOP" + (" " + "x" * (n - 7) if n > 6 else ""))
        room -= len(lines[-1]) + 2
    if room:
        raise ValueError(f"cannot fill an MSS of {mss}")
    log("client", f"MSS {mss}: {len(lines)} NOOP lines before the rest")
    return lines


def sha256_of_stream(sock, timeout):
    """Read a data connection to its end; return (sha256 hex, bytes)."""
    sock.settimeout(timeout)
    digest, total = hashlib.sha256(), 0
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        digest.update(chunk)
        total += len(chunk)
    sock.close()
    return digest.hexdigest(), total


# --------------------------------------------------------------------------
# client
# --------------------------------------------------------------------------

def data_command(args, ctrl, data_port):
    """The text of the data command for args.mode (no terminator)."""
    if args.mode == "pasv":
        return "PASV"
    if args.mode == "epsv":
        return "EPSV"
    if args.mode == "none":
        return None
    addr = ipaddress.ip_address(args.addr or ctrl.sock.getsockname()[0])
    if args.mode == "port":
        if addr.version != 4:
            raise ValueError("PORT needs an IPv4 address")
        h = str(addr).replace(".", ",")
        return f"PORT {h},{data_port >> 8},{data_port & 255}"
    return f"EPRT |{1 if addr.version == 4 else 2}|{addr}|{data_port}|"


def expect_code(ctrl, what, ok):
    code, text = ctrl.reply()
    if code // 100 not in ok:
        raise FtpError(f"{what}: unexpected reply {text!r}")
    return code, text


def passive_target(ctrl, mode, text):
    """Where the 227/229 reply says to connect."""
    if mode == "pasv":
        m = re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", text)
        if not m:
            raise FtpError(f"cannot parse 227 reply {text!r}")
        n = [int(x) for x in m.groups()]
        return ".".join(map(str, n[:4])), n[4] << 8 | n[5]
    m = re.search(r"\((.)\1\1(\d+)\1\)", text)
    if not m:
        raise FtpError(f"cannot parse 229 reply {text!r}")
    return ctrl.sock.getpeername()[0], int(m.group(2))


def listen_on(family, addr, port, timeout):
    """A listening TCP socket on addr/port (port 0: any)."""
    lsock = socket.socket(family, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((addr, port))
    lsock.listen(4)
    lsock.settimeout(timeout)
    return lsock


def client_prelude(ctrl, args):
    """Log in, then the --pre lines and the --raw-hex segments."""
    expect_code(ctrl, "greeting", (2,))
    if not args.no_login:
        for line, ok in (("USER anonymous", (2, 3)),
                         ("PASS ftpseg@", (2,)), ("TYPE I", (2,))):
            ctrl.send((line + "\r\n").encode())
            expect_code(ctrl, line.split()[0], ok)
    for line in args.pre:
        data = (line + "\r\n").encode("latin-1")
        ctrl.send(data, parse_split(args.pre_split, len(data)))
        ctrl.reply()
    for hexdata in args.raw_hex:
        ctrl.send(bytes.fromhex(hexdata))
    if args.raw_hex:
        ctrl.drain(args.drain)
        ctrl.sock.settimeout(args.timeout)


def client_retr(ctrl, args, reply, listener):
    """RETR the file over the data connection reply/listener says; returns
    the sha256 of the data."""
    data = None
    if listener is None:
        host, port = passive_target(ctrl, args.mode, reply)
        log("client", f"data connection to {host} port {port}")
        data = socket.socket(ctrl.sock.family, socket.SOCK_STREAM)
        data.settimeout(args.data_timeout)
        try:
            data.connect((host, port))
        except OSError as e:
            raise FtpError(f"data connection to {host} port {port}: {e}")
    ctrl.send(f"RETR {args.file}\r\n".encode())
    expect_code(ctrl, "RETR", (1,))
    if listener is not None:
        try:
            data, peer = listener.accept()
        except socket.timeout:
            raise FtpError("no data connection on port "
                           f"{listener.getsockname()[1]}")
        log("client", f"data connection from {peer[0]} port {peer[1]}")
        listener.close()
    digest, size = sha256_of_stream(data, args.data_timeout)
    expect_code(ctrl, "end of transfer", (2,))
    log("client", f"received {size} bytes")
    return digest


def run_client(args):
    family = socket.AF_INET6 if ":" in args.server else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(args.timeout)
    try:
        sock.connect((args.server, args.port))
    except OSError as e:
        raise FtpError(f"connect to {args.server} port {args.port}: {e}")
    ctrl = Conn(sock, args.gap_ms / 1000.0, args.timeout, "client",
                args.record, args.sent)
    if args.keepalive:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE,
                        args.keepalive)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL,
                        args.keepalive)

    # Active modes listen before announcing the port.
    active = args.mode in ("port", "eprt")
    listener, data_port = None, args.data_port
    if active and not args.announce_only:
        listener = listen_on(family, sock.getsockname()[0], data_port,
                             args.data_timeout)
        data_port = listener.getsockname()[1]
    elif active and not data_port:
        raise ValueError("--announce-only in an active mode needs --data-port")

    # The --with lines and the data command go out in one write, cut.
    cmd = data_command(args, ctrl, data_port)
    tail = "".join(t + "\r\n" for t in args.tail)
    head = 0
    if args.fill_mss:
        rest = len("".join(w + "\r\n" for w in args.with_line) +
                   ("" if cmd is None else cmd + "\r\n") + tail)
        filler = mss_filler(sock, rest)
        head = sum(len(f) + 2 for f in filler)
        args.with_line = filler + args.with_line
    text = "".join(w + "\r\n" for w in args.with_line)
    text += "" if cmd is None else cmd + "\r\n"
    text += tail
    payload = text.encode("latin-1")
    # --split offsets do not count the --fill-mss lines.
    cuts = parse_split(args.split, len(payload) - head) if payload else []
    cuts = [c + head for c in cuts]

    def between():
        run_hook("client", args.between, sock, args.pause)

    if args.early:
        # The data command is the client's very first segment.
        ctrl.send(payload, cuts, between)
        expect_code(ctrl, "greeting", (2,))
    else:
        client_prelude(ctrl, args)
        run_hook("client", args.before, sock)
        if payload:
            ctrl.send(payload, cuts, between)
    for _ in args.with_line:
        ctrl.reply()
    if cmd is None:
        for _ in args.tail:
            ctrl.reply()
        return client_after(ctrl, args)

    digest = None
    for attempt in range(args.retry + 1):
        if attempt:
            # Same control connection, the command again in one segment:
            # works only if the helper kept (or regained) its footing.
            log("client", f"retry {attempt}: {cmd.split()[0]} again, whole")
            if active and not args.announce_only:
                listener = listen_on(family, sock.getsockname()[0], 0,
                                     args.data_timeout)
                data_port = listener.getsockname()[1]
                cmd = data_command(args, ctrl, data_port)
            ctrl.send((cmd + "\r\n").encode("latin-1"))
        try:
            _, reply = expect_code(ctrl, cmd.split()[0],
                                   (1, 2, 3, 4, 5) if args.any_reply else (2,))
            for _ in args.tail:
                ctrl.reply()
            if args.ready:
                open(args.ready, "w").close()
            if not args.announce_only:
                digest = client_retr(ctrl, args, reply, listener)
                print(f"sha256 {digest}", flush=True)
            break
        except FtpError as e:
            if attempt == args.retry:
                raise
            log("client", f"attempt {attempt + 1} failed: {e}")
            # The failed command's reply may still be on its way (the
            # server gives up connecting back only after its timeout):
            # take it before sending the next command.
            if "timed out" in str(e):
                try:
                    ctrl.reply()
                except (FtpError, OSError):
                    pass
            ctrl.drain(1.0)
            ctrl.sock.settimeout(args.timeout)
    time.sleep(args.hold)
    if digest and args.expect_sha256 and digest != args.expect_sha256:
        client_after(ctrl, args)
        raise FtpError(f"data corrupted: sha256 {digest}")
    return client_after(ctrl, args)


def client_after(ctrl, args):
    """The --after lines, each answered, then QUIT (whose reply is
    awaited only with --after)."""
    for line in args.after:
        ctrl.send((line + "\r\n").encode("latin-1"))
        ctrl.reply()
    ctrl.send(b"QUIT\r\n")
    if args.after:
        expect_code(ctrl, "QUIT", (2,))
    return EXIT_OK


# --------------------------------------------------------------------------
# server
# --------------------------------------------------------------------------

class Session:
    """One control connection of the fake server."""

    def __init__(self, args, sock, content, n=1):
        self.args = args
        self.content = content
        self.ctrl = Conn(sock, args.gap_ms / 1000.0, args.timeout, "server",
                         args.record and f"{args.record}.{n}",
                         args.sent and f"{args.sent}.{n}")
        self.family = sock.family
        self.pasv = None        # listening data socket
        self.port_to = None     # (addr, port) from PORT/EPRT
        self.pending = b""      # greeting held back by --greet-late
        self.tls = False        # after 234, until plain text comes back

    def say(self, text, cuts=()):
        data = self.pending + (text + "\r\n").encode("latin-1")
        if self.pending:
            cuts = [c + len(self.pending) for c in cuts]
            self.pending = b""
        self.ctrl.send(data, cuts)

    def passive_reply(self, code):
        """Open the data listener and send the 227/229 reply, split."""
        a = self.args
        if self.pasv:
            self.pasv.close()
        local = self.ctrl.sock.getsockname()[0]
        self.pasv = listen_on(self.family, local, a.data_port, a.timeout)
        port = a.announce_port or self.pasv.getsockname()[1]
        if code == 227:
            addr = ipaddress.ip_address(a.announce_addr or local)
            h = str(addr).replace(".", ",")
            last = f"227 Entering Passive Mode ({h},{port >> 8},{port & 255})."
        else:
            last = f"229 Entering Extended Passive Mode (|||{port}|)"
        text = "".join(f"{code}-Passive mode follows\r\n"
                       for _ in range(a.multiline)) + last
        data = bytes.fromhex(a.prefix_hex) + (text + "\r\n").encode()
        if self.pending:
            data, self.pending = self.pending + data, b""
        self.ctrl.send(data, parse_split(a.split, len(data)),
                       lambda: run_hook("server", a.between, self.ctrl.sock,
                                        a.pause))

    def active_target(self, verb, arg):
        if verb == "PORT":
            n = [int(x) for x in arg.split(",")]
            if len(n) != 6 or any(not 0 <= x <= 255 for x in n):
                raise ValueError(arg)
            return ".".join(map(str, n[:4])), n[4] << 8 | n[5]
        d = arg[0]
        _, af, addr, port, _ = arg.split(d)
        if af not in ("1", "2"):
            raise ValueError(arg)
        ipaddress.ip_address(addr)
        return addr, int(port)

    def retr(self):
        if self.pasv:
            self.say("150 Opening BINARY mode data connection.")
            try:
                data, _ = self.pasv.accept()
            except socket.timeout:
                self.say("425 No data connection.")
                return
            self.pasv.close()
            self.pasv = None
        elif self.port_to:
            self.say("150 Opening BINARY mode data connection.")
            fam = socket.AF_INET6 if ":" in self.port_to[0] else socket.AF_INET
            data = socket.socket(fam, socket.SOCK_STREAM)
            data.settimeout(self.args.timeout)
            try:
                data.connect(self.port_to)
            except OSError as e:
                log("server", f"data connection to {self.port_to}: {e}")
                self.say("425 Failed to establish connection.")
                return
            self.port_to = None
        else:
            self.say("425 Use PORT or PASV first.")
            return
        data.sendall(self.content)
        data.close()
        self.say("226 Transfer complete.")

    def run(self):
        a = self.args
        greeting = "220 ftpseg ready"
        if a.greet_late:
            self.pending = (greeting + "\r\n").encode()
        else:
            self.say(greeting)
        while True:
            line = self.ctrl.line()
            if line is None:
                return
            log("server", f"<- {line!r}")
            if not line[:1].isalnum():
                continue        # binary (TLS records): no reply
            if self.tls and not self.ctrl.fresh:
                continue        # inside a "TLS record"
            self.tls = False
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "QUIT":
                self.say("221 Goodbye.")
                return
            if verb == "USER":
                self.say("331 Please specify the password.")
            elif verb == "PASS":
                self.say("230 Login successful.")
            elif verb == "TYPE":
                self.say("200 Switching to Binary mode.")
            elif verb == "NOOP" and a.unsolicited:
                self.passive_reply(int(a.unsolicited))
            elif verb == "NOOP":
                self.say("200 NOOP ok.")
            elif verb == "AUTH" and a.auth_tls:
                # No TLS really.  Until a segment starts with a command
                # again (as after CCC), only such lines get a reply: the
                # client's fake TLS records may carry command lines.
                self.say("234 Proceed with negotiation.")
                self.tls = True
            elif verb == "CCC":
                self.say("200 Control channel in plain text.")
            elif verb in ("PASV", "EPSV"):
                self.passive_reply(227 if verb == "PASV" else 229)
            elif verb in ("PORT", "EPRT"):
                try:
                    self.port_to = self.active_target(verb, arg)
                    self.say(f"200 {verb} command successful.")
                except (ValueError, IndexError):
                    self.say(f"501 Illegal {verb} command.")
            elif verb == "RETR":
                self.retr()
            else:
                self.say("502 Command not implemented.")


def run_server(args):
    if args.file:
        with open(args.file, "rb") as f:
            content = f.read()
    else:
        content = b"".join(hashlib.sha256(str(i).encode()).digest()
                           for i in range(2048))
    family = socket.AF_INET6 if ":" in args.listen else socket.AF_INET
    lsock = listen_on(family, args.listen, args.port, args.timeout)
    deadline = time.monotonic() + args.timeout
    if args.ready:
        open(args.ready, "w").close()
    for n in range(args.sessions):
        lsock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            sock, peer = lsock.accept()
        except socket.timeout:
            raise FtpError(f"no client for session {n + 1}")
        log("server", f"session {n + 1} from {peer[0]} port {peer[1]}")
        try:
            Session(args, sock, content, n + 1).run()
        except (FtpError, OSError) as e:
            log("server", f"session {n + 1}: {e}")
        sock.close()
    return EXIT_OK


# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="role", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--port", type=int, default=21,
                        help="control port (default 21)")
    common.add_argument("--split", default="none",
                        help="where to cut the data command / passive reply")
    common.add_argument("--gap-ms", type=float, default=25,
                        help="pause after each segment (default 25 ms)")
    common.add_argument("--timeout", type=float, default=10,
                        help="seconds to wait for the peer (default 10)")
    common.add_argument("--data-port", type=int, default=0,
                        help="local data port to listen on (default: any)")
    common.add_argument("--ready", help="create this file when ready")
    common.add_argument("--record", help="write every line received to "
                        "this file (server: FILE.N for session N), one "
                        "bytes literal a line")
    common.add_argument("--sent", help="the same for every line sent")
    common.add_argument("--between", help="shell command (bash) run after "
                        "the first piece of the cut data command / passive "
                        "reply; FTPSEG_SRC, FTPSEG_SPORT, FTPSEG_DST and "
                        "FTPSEG_DPORT name the control connection")
    common.add_argument("--pause", type=float, default=0,
                        help="seconds to wait after --between (default 0)")

    c = sub.add_parser("client", parents=[common])
    c.add_argument("--server", required=True)
    c.add_argument("--mode", required=True,
                   choices=("port", "eprt", "pasv", "epsv", "none"))
    c.add_argument("--addr", help="address to claim in PORT/EPRT "
                   "(default: the control connection's; an IPv6 address "
                   "makes EPRT |2|)")
    c.add_argument("--file", default="testfile.bin", help="file to RETR")
    c.add_argument("--pre", action="append", default=[],
                   help="line to send (and read a reply to) before the "
                   "data command; repeatable")
    c.add_argument("--pre-split", default="none",
                   help="how to cut each --pre line")
    c.add_argument("--raw-hex", action="append", default=[],
                   help="bytes to send as one segment after the --pre "
                   "lines, no reply expected; repeatable")
    c.add_argument("--drain", type=float, default=0.5,
                   help="after --raw-hex, discard replies until quiet this "
                   "long (default 0.5 s)")
    c.add_argument("--with", dest="with_line", action="append", default=[],
                   help="line sent in the same write as the data command, "
                   "before it; repeatable")
    c.add_argument("--early", action="store_true",
                   help="send the data command right after connecting, "
                   "before the greeting and without logging in")
    c.add_argument("--no-login", action="store_true",
                   help="skip USER/PASS/TYPE")
    c.add_argument("--announce-only", action="store_true",
                   help="stop after the reply to the data command")
    c.add_argument("--hold", type=float, default=0,
                   help="keep the control connection this long before QUIT")
    c.add_argument("--data-timeout", type=float, default=10,
                   help="seconds to wait for the data connection")
    c.add_argument("--retry", type=int, default=0,
                   help="after a failed transfer, send the data command "
                   "again (whole) on the same connection, up to N times")
    c.add_argument("--expect-sha256", help="fail unless the data has it")
    c.add_argument("--tail", action="append", default=[],
                   help="line sent in the same write as the data command, "
                   "after it (pipelined); repeatable")
    c.add_argument("--after", action="append", default=[],
                   help="line sent (and answered) after the data command "
                   "and its transfer, before QUIT; with it, the reply to "
                   "QUIT is awaited too; repeatable")
    c.add_argument("--before", help="shell command (bash) run right "
                   "before the data command is sent")
    c.add_argument("--keepalive", type=int, default=0,
                   help="TCP keepalive probes after this many idle seconds")
    c.add_argument("--any-reply", action="store_true",
                   help="go on whatever the reply to the data command")
    c.add_argument("--fill-mss", action="store_true",
                   help="put NOOP lines before the data command so that "
                   "the write is exactly one MSS (--split offsets still "
                   "count from the data command)")

    s = sub.add_parser("server", parents=[common])
    s.add_argument("--listen", required=True, help="address to listen on")
    s.add_argument("--file", help="file served on RETR (default: a "
                   "generated 64 KiB pattern)")
    s.add_argument("--announce-addr", help="address in 227 (default: the "
                   "control connection's local address)")
    s.add_argument("--announce-port", type=int, default=0,
                   help="port in 227/229 (default: the real data port)")
    s.add_argument("--unsolicited", choices=("227", "229"),
                   help="answer NOOP with this passive reply")
    s.add_argument("--auth-tls", action="store_true",
                   help="answer AUTH with 234; then answer only lines that "
                   "start a segment until plain text is back")
    s.add_argument("--multiline", type=int, default=0,
                   help="precede the 227/229 line by N continuation lines")
    s.add_argument("--prefix-hex", default="",
                   help="bytes put in front of the 227/229 reply")
    s.add_argument("--greet-late", action="store_true",
                   help="hold the greeting back and send it in the same "
                   "segment as the first reply")
    s.add_argument("--sessions", type=int, default=1)
    args = ap.parse_args()

    try:
        if args.role == "client":
            return run_client(args)
        return run_server(args)
    except ValueError as e:
        log(args.role, f"usage: {e}")
        return EXIT_USAGE
    except (FtpError, OSError) as e:
        log(args.role, f"FAILED: {e}")
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
