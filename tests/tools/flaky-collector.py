#!/usr/bin/env python3
"""Loopback report collector whose failures are scripted, for node-agent's delivery tests.

  flaky-collector.py --portfile FILE --state FILE [--script ACTIONS] [--tls CERT KEY]
                     [--overload N] [--max-inflight K] [--delay-ms MS] [--port P]

Binds 127.0.0.1 only. Each request (one per connection: answers say Connection: close)
takes the next action of --script, a comma-separated list; after the script every
request is stored and answered 201:

  down:S     before the next connection: stop listening for S seconds (connections are
             refused: the port stays bound but is not listening), then listen again
  CODE       answer with that HTTP status (500, 503, 400, 422, ...), report not stored
  CODE:RA    the same with "Retry-After: RA" (429:2, 503:1)
  hang:S     store the report, then answer nothing for S seconds and close
             (the client times out; its retry must carry the same key)
  partial    store the report, then send the status line, headers announcing 100 bytes
             and 10 of them, and close (a response cut mid-body)
  ok         store and answer 201

--overload N: the first N requests that the script does not cover are answered 429 with
Retry-After: 1 (odd ones) or 503 without Retry-After (even ones), not stored.
--max-inflight K: a request arriving while K others are being handled gets 503.
--delay-ms MS: time spent "storing" each accepted report (makes in-flight requests overlap).

Reports are kept by idempotency key (the Idempotency-Key header, an sf-string, checked
against the body's idempotency_key): a key seen before is answered 200 and counted as a
duplicate, not stored again. --state FILE is rewritten (atomically) after every request (or every --save-interval
seconds, and on SIGTERM):
  {"requests": n, "stored": [{"key", "machine_id", "hostname", "collected_at", "t"}...],
   "duplicates": n, "duplicate_keys": [...], "log": [{"t", "key", "action", "status"}...]}
with "t" in seconds since the collector started (time.monotonic()), which was
"started_wall" in time.time().
"""
import argparse
import json
import os
import signal
import socket
import ssl
import threading
import time
import http.server


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--portfile", required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--script", default="")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--overload", type=int, default=0)
    ap.add_argument("--max-inflight", type=int, default=0)
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--max-seconds", type=float, default=600, help="exit after this long")
    ap.add_argument("--save-interval", type=float, default=0,
                    help="write --state at most this often (and on SIGTERM); 0: every request")
    a = ap.parse_args()

    script = [s.strip() for s in a.script.split(",") if s.strip()]
    lock = threading.Lock()
    t0 = time.monotonic()
    st = {"requests": 0, "stored": [], "duplicates": 0, "duplicate_keys": [], "log": [],
          "started_wall": time.time()}
    keys = set()
    inflight = [0]
    overload_left = [a.overload]
    tls = None
    if a.tls:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(a.tls[0], a.tls[1])

    def save():
        tmp = a.state + ".tmp"
        with open(tmp, "w") as f:
            json.dump(st, f)
        os.replace(tmp, a.state)

    def store(key, body):
        """Under lock. True when new, False for a duplicate key."""
        if key in keys:
            st["duplicates"] += 1
            st["duplicate_keys"].append(key)
            return False
        keys.add(key)
        inv = body.get("inventory") or {}
        st["stored"].append({"key": key, "machine_id": body.get("machine_id"),
                             "hostname": inv.get("hostname"),
                             "collected_at": inv.get("collected_at"),
                             "t": round(time.monotonic() - t0, 3)})
        return True

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        action = "ok"

        def log_message(self, fmt, *args):
            pass

        def reply(self, code, body=b"", extra=()):
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        def note(self, key, action, status):
            st["requests"] += 1
            st["log"].append({"t": round(time.monotonic() - t0, 3), "key": key,
                              "action": action, "status": status})
            if not a.save_interval:
                save()

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(n) if 0 <= n <= 64 << 20 else b""
            hkey = (self.headers.get("Idempotency-Key") or "").strip()
            if len(hkey) >= 2 and hkey[0] == '"' and hkey[-1] == '"':
                hkey = hkey[1:-1]
            try:
                body = json.loads(raw)
                ok = (isinstance(body, dict) and body.get("schema") == "node-agent/report/v1"
                      and body.get("idempotency_key") == hkey and hkey
                      and isinstance(body.get("inventory"), dict))
            except ValueError:
                body, ok = None, False
            act = self.action
            with lock:
                inflight[0] += 1
                busy = a.max_inflight and inflight[0] > a.max_inflight
                if act == "ok" and not busy and overload_left[0] > 0:
                    act = "429:1" if overload_left[0] % 2 else "503"
                    overload_left[0] -= 1
            try:
                self.act(act, busy, ok, hkey, body)
            finally:
                with lock:
                    inflight[0] -= 1

        def act(self, act, busy, ok, hkey, body):
            if busy:
                with lock:
                    self.note(hkey, "busy", 503)
                return self.reply(503, b'{"error": "busy"}\n')
            if act in ("ok", "partial") or act.startswith("hang"):
                if not ok:
                    with lock:
                        self.note(hkey, "invalid", 400)
                    return self.reply(400, b'{"error": "not a node-agent/report/v1 envelope"}\n')
                if a.delay_ms:
                    time.sleep(a.delay_ms / 1000)
                with lock:
                    new = store(hkey, body)
                    self.note(hkey, act if new else act + "+duplicate", 201 if new else 200)
                if act == "partial":
                    self.wfile.write(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                                     b"Content-Length: 100\r\n\r\n{\"stored\":")
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if act.startswith("hang"):
                    time.sleep(float(act.split(":", 1)[1]) if ":" in act else 30)
                    self.close_connection = True
                    return
                return self.reply(201 if new else 200,
                                  b'{"stored": true}\n' if new else b'{"stored": "before"}\n')
            code, _, ra = act.partition(":")
            with lock:
                self.note(hkey, act, int(code))
            return self.reply(int(code), b'{"error": "scripted"}\n',
                              [("Retry-After", ra)] if ra else [])

    def bound_socket(port):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return s

    def serve(conn, addr, action):
        try:
            if tls:
                conn = tls.wrap_socket(conn, server_side=True)
            conn.settimeout(60)
            H = type("H", (Handler,), {"action": action})
            H(conn, addr, None)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    sock = bound_socket(a.port)
    port = sock.getsockname()[1]
    with open(a.portfile + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.replace(a.portfile + ".tmp", a.portfile)
    save()

    def on_term(signum, frame):
        with lock:
            save()
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    last_save = time.monotonic()
    listening = False
    deadline = t0 + a.max_seconds
    while time.monotonic() < deadline:
        if script and script[0].startswith("down:"):
            secs = float(script.pop(0)[5:])
            if listening:
                # a bound socket that does not listen answers SYN with RST: refused
                sock.close()
                sock = bound_socket(port)
                listening = False
            time.sleep(secs)
            continue
        if a.save_interval and time.monotonic() - last_save >= a.save_interval:
            with lock:
                save()
            last_save = time.monotonic()
        if not listening:
            sock.listen(512)
            sock.settimeout(0.5)
            listening = True
        try:
            conn, addr = sock.accept()
        except socket.timeout:
            continue
        conn.settimeout(None)
        action = script.pop(0) if script else "ok"
        threading.Thread(target=serve, args=(conn, addr, action), daemon=True).start()


if __name__ == "__main__":
    main()
