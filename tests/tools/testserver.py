#!/usr/bin/env python3
"""Loopback test server: static files over HTTP, and a report collector.

  testserver.py --port 0 [--dir DIR] [--reports DIR] [--tls CERT KEY] [--portfile FILE]

GET /<path> serves DIR/<path>; GET /truncate/<path> announces DIR/<path>'s full
Content-Length, sends half of it and closes; GET /status/<code> answers with that status; POST
/reports stores the body as REPORTS/<n>.json (with the request headers beside it) and
answers 201. Binds 127.0.0.1 only. Writes the port it got to --portfile.
"""
import argparse
import http.server
import json
import os
import ssl
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--dir")
    ap.add_argument("--reports")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--portfile")
    a = ap.parse_args()
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def reply(self, code, body=b"", ctype="text/plain"):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path.startswith("/status/"):
                return self.reply(int(path[8:11]), b"status\n")
            if not a.dir:
                return self.reply(404)
            truncate = path.startswith("/truncate/")
            if truncate:
                path = path[len("/truncate"):]
            full = os.path.realpath(os.path.join(a.dir, path.lstrip("/")))
            if not full.startswith(os.path.realpath(a.dir)) or not os.path.isfile(full):
                return self.reply(404, b"not found\n")
            with open(full, "rb") as f:
                data = f.read()
            if truncate:
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.close_connection = True
                return
            self.reply(200, data, "application/octet-stream")

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            if self.path.split("?", 1)[0] != "/reports" or not a.reports:
                return self.reply(404)
            with lock:
                i = len([f for f in os.listdir(a.reports) if f.endswith(".json")])
                name = os.path.join(a.reports, "%04d" % i)
                with open(name + ".json.tmp", "wb") as f:
                    f.write(body)
                with open(name + ".headers", "w") as f:
                    json.dump(dict(self.headers), f)
                os.rename(name + ".json.tmp", name + ".json")
            self.reply(201, b'{"stored": true}\n', "application/json")

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    if a.portfile:
        with open(a.portfile + ".tmp", "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(a.portfile + ".tmp", a.portfile)
    srv.serve_forever()


if __name__ == "__main__":
    main()
