#!/usr/bin/env python3
"""A stand-in for systemd's notification socket: receives sd_notify() datagrams on a
unix socket and appends each to a file, one per line.  notify-listen.py SOCKET OUTFILE"""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "a", buffering=1) as f:
    f.write("listening\n")
    while True:
        data = s.recv(65536)
        f.write(data.decode(errors="replace").replace("\n", " | ") + "\n")
