#!/usr/bin/env python3
"""What went over a LAN, for a test to grep (tcpdump is not among the test's packages).

  lan-capture.py BRIDGE OUT [--max-bytes N]

Run as root in the namespace of the bridge BRIDGE. A bridge's own device sees only what is
for the host (unicast between two ports is forwarded past it), so every interface of the
namespace is read: each frame once, as it came in on a port (not as it left by another, nor
on BRIDGE). Every TCP segment and UDP datagram with a payload, IPv4, is appended to OUT as

  \\n== <proto> <src>:<port> > <dst>:<port>\\n<payload bytes as sent>

(plain HTTP, DHCP, TFTP, and TLS as ciphertext). The answers to GET /vmlinuz and GET /initrd
(static files of the image, tens of MB per boot) are left out: a flow whose request starts so,
or whose answer says Content-Length over 4 MiB, has its server side skipped. The socket's
buffer is 64 MiB; frames the kernel dropped all the same are counted on stderr. At most --max-bytes (default 256 MiB) are written; then
"== capture truncated" and nothing more. Stops on SIGTERM/SIGINT, flushing OUT; prints the
counts to stderr.
"""
import argparse
import re
import signal
import socket
import struct
import sys

ETH_P_ALL = 0x0003
SKIP_REQUESTS = (b"GET /vmlinuz", b"GET /initrd")
BIG_ANSWER = re.compile(rb"^HTTP/1\.[01] 2\d\d .*?\r\nContent-Length: *(\d+)\r\n", re.S | re.I)
SOL_PACKET, PACKET_STATISTICS, SO_RCVBUFFORCE = 263, 6, 33


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bridge")
    ap.add_argument("out")
    ap.add_argument("--max-bytes", type=int, default=256 << 20)
    a = ap.parse_args()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 64 << 20)
    # not bound: every interface of the namespace
    out = open(a.out, "wb", buffering=1 << 16)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    s.settimeout(0.5)
    skipped = set()  # (server ip, server port, client ip, client port) whose data is skipped
    written = frames = 0
    truncated = False
    while not stop:
        try:
            f, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        if addr[0] == a.bridge or addr[2] == socket.PACKET_OUTGOING:
            continue
        if len(f) < 34 or f[12:14] != b"\x08\x00":
            continue
        ip = f[14:]
        ihl = (ip[0] & 15) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        proto = ip[9]
        src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
        ip = ip[:total]
        l4 = ip[ihl:]
        if proto == 6 and len(l4) >= 20:
            sport, dport = struct.unpack("!HH", l4[:4])
            payload = l4[(l4[12] >> 4) * 4:]
            name = "tcp"
        elif proto == 17 and len(l4) >= 8:
            sport, dport = struct.unpack("!HH", l4[:4])
            payload = l4[8:]
            name = "udp"
        else:
            continue
        if not payload:
            continue
        if name == "tcp":
            if payload.startswith(SKIP_REQUESTS):
                skipped.add((dst, dport, src, sport))
            if (src, sport, dst, dport) in skipped:
                continue
            m = BIG_ANSWER.match(payload[:4096])
            if m and int(m.group(1)) > 4 << 20:
                skipped.add((src, sport, dst, dport))
                continue
        frames += 1
        if truncated:
            continue
        rec = b"\n== %s %s:%d > %s:%d\n" % (name.encode(), src.encode(), sport, dst.encode(), dport) + payload
        if written + len(rec) > a.max_bytes:
            out.write(b"\n== capture truncated\n")
            truncated = True
            continue
        out.write(rec)
        written += len(rec)
    out.close()
    # struct tpacket_stats {tp_packets, tp_drops}: since the last read, i.e. the whole run
    drops = struct.unpack("II", s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))[1]
    sys.stderr.write("lan-capture: %d segments with a payload, %d bytes written%s, %d frames dropped\n"
                     % (frames, written, " (truncated)" if truncated else "", drops))


if __name__ == "__main__":
    main()
