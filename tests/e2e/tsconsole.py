#!/usr/bin/env python3
"""Console recorder for tests/e2e/e2e.sh: reads QEMU's serial output from a FIFO, writes
it unchanged to LOG and every line, prefixed with the seconds since START (a Unix time
with fractions), to LOG.ts, so that the test can say when each boot phase was reached.

  tsconsole.py FIFO LOG START
"""
import os
import sys
import time


def main():
    fifo, log, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
    fd = os.open(fifo, os.O_RDONLY)
    pending = b""
    with open(log, "wb", buffering=0) as raw, open(log + ".ts", "w", buffering=1) as ts:
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            now = time.time() - start
            raw.write(chunk)
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                text = line.decode("utf-8", "replace").rstrip("\r")
                ts.write("%.2f %s\n" % (now, text))
            if len(pending) > 65536:  # a line that never ends: cut it
                ts.write("%.2f %s\n" % (now, pending.decode("utf-8", "replace")))
                pending = b""
        if pending:
            ts.write("%.2f %s\n" % (time.time() - start, pending.decode("utf-8", "replace")))


if __name__ == "__main__":
    main()
