#!/usr/bin/env python3
"""Test double of node-agent serve's credentials API (HTTPS on 127.0.0.1 only).

  serve-join-double.py --tls CERT KEY --answers FILE --log DIR [--portfile FILE]

POST /api/v1/join answers with the next entry of FILE, a JSON list of
{"status": 200, "body": {...}, "headers": {...}}; the last entry repeats, and the list starts
over whenever FILE changes. POST /api/v1/cluster answers 200 {"pinned": true}. POST /reports
answers 201. Every request is kept as DIR/<n>.json: {"path", "headers", "body"}.
"""
import argparse
import http.server
import json
import os
import ssl
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), required=True)
    ap.add_argument("--answers", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--portfile")
    a = ap.parse_args()
    lock = threading.Lock()
    state = {"seen": None, "next": 0, "n": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def reply(self, code, obj, headers=None):
            body = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, str(v))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n).decode("utf-8", "replace")
            path = self.path.split("?", 1)[0]
            with lock:
                with open(os.path.join(a.log, "%04d.json" % state["n"]), "w") as f:
                    json.dump({"path": path, "headers": dict(self.headers), "body": body}, f)
                state["n"] += 1
                if path == "/api/v1/join":
                    with open(a.answers) as f:
                        text = f.read()
                    if text != state["seen"]:
                        state["seen"], state["next"] = text, 0
                    answers = json.loads(text)
                    ans = answers[min(state["next"], len(answers) - 1)]
                    state["next"] += 1
            if path == "/api/v1/join":
                return self.reply(ans["status"], ans.get("body", {}), ans.get("headers"))
            if path == "/api/v1/cluster":
                return self.reply(200, {"pinned": True})
            if path == "/reports":
                return self.reply(201, {"stored": True})
            self.reply(404, {"error": "not found"})

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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
