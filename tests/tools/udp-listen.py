#!/usr/bin/python3
# udp-listen.py PORT OUT SECONDS: every UDP datagram to PORT (any address, broadcasts too)
# as a line "DESTINATION LENGTH HEX" in OUT, flushed at once; "ready" in OUT.ready once
# bound; exits after SECONDS.
import socket
import struct
import sys
import time

IP_PKTINFO = 8  # linux/in.h; Python's socket module lacks the name
port, out, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
s.bind(("0.0.0.0", port))
with open(out + ".ready", "w") as f:
    f.write("ready\n")
end = time.monotonic() + seconds
with open(out, "a") as f:
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data, anc, _, _ = s.recvmsg(2048, 256)
        except socket.timeout:
            break
        dest = "?"
        for level, kind, cdata in anc:
            if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(cdata) >= 12:
                dest = socket.inet_ntoa(cdata[8:12])
        f.write("%s %d %s\n" % (dest, len(data), data.hex()))
        f.flush()
