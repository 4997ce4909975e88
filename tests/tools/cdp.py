"""Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe:
the browser reads commands on fd 3 and writes answers on fd 4, each a JSON text ended by a
NUL byte), so a test can click, type and read a page without a WebSocket library or a
debugging port. Every wait is bounded.

    with Browser(chromium, profile_dir) as b:
        b.open(url, 1280, 800)
        b.wait("document.querySelectorAll('tr').length == 3")
        b.click("button#go")
        png = b.screenshot()
"""
import base64
import fcntl
import json
import os
import select
import subprocess
import time


class CDPError(Exception):
    pass


class Browser:
    def __init__(self, chromium, profile, log=None, timeout=30.0, extra_args=()):
        self.timeout = timeout
        self.next_id = 0
        self.session = None
        self.buf = b""
        self.events = []
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        # the child's ends at 3 and 4, moved out of the way first (one may be 3 or 4);
        # close_fds would close them after preexec_fn: every other fd is CLOEXEC (PEP 446)
        a = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
        b = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_child_r)
        os.close(from_child_w)

        def child_fds():
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps", "--disable-breakpad",
                "--no-pings", "--disable-extensions", "--mute-audio",
                "--user-data-dir=" + profile, "--remote-debugging-pipe"] + list(extra_args) + [
                "about:blank"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=log or subprocess.DEVNULL,
                                     stderr=log or subprocess.DEVNULL,
                                     preexec_fn=child_fds, close_fds=False)
        os.close(a)
        os.close(b)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.proc.poll() is None:
            try:
                self.call("Browser.close", session=False, timeout=5)
            except Exception:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        for fd in (self.to_child, self.from_child):
            try:
                os.close(fd)
            except OSError:
                pass

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CDPError("no answer from Chromium in time")
            r, _, _ = select.select([self.from_child], [], [], left)
            if r:
                chunk = os.read(self.from_child, 65536)
                if not chunk:
                    raise CDPError("Chromium closed its pipe (exited?)")
                self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=True, timeout=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            data = data[os.write(self.to_child, data):]
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise CDPError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def open(self, url, width, height, mobile=False):
        """A new tab of WIDTHxHEIGHT CSS pixels showing URL, once loaded."""
        t = self.call("Target.createTarget", {"url": "about:blank"}, session=False)
        s = self.call("Target.attachToTarget", {"targetId": t["targetId"], "flatten": True},
                      session=False)
        self.session = s["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.resize(width, height, mobile)
        self.navigate(url)

    def resize(self, width, height, mobile=False):
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def navigate(self, url):
        r = self.call("Page.navigate", {"url": url})
        if r.get("errorText"):
            raise CDPError("%s: %s" % (url, r["errorText"]))
        self.wait("document.readyState === 'complete'")

    def eval(self, expr):
        """The value of the JavaScript expression EXPR (awaited when a promise)."""
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise CDPError("%s: %s" % (expr, d.get("exception", {}).get("description", d)))
        return r["result"].get("value")

    def wait(self, expr, timeout=None):
        """Until EXPR is truthy (its value), at most TIMEOUT seconds."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            v = self.eval(expr)
            if v:
                return v
            if time.monotonic() > deadline:
                raise CDPError("timed out waiting for: " + expr)
            time.sleep(0.1)

    def click(self, selector):
        """A real mouse click (pressed and released) in the middle of the element SELECTOR,
        scrolled into view: a disabled button gets it as a person's click would."""
        box = self.eval("""(() => {
            const e = document.querySelector(%s);
            if (!e) return null;
            e.scrollIntoView({block: 'center'});
            const r = e.getBoundingClientRect();
            return [r.left + r.width / 2, r.top + r.height / 2];
        })()""" % json.dumps(selector))
        if not box:
            raise CDPError("nothing to click: " + selector)
        for t in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": t, "x": box[0], "y": box[1],
                                                   "button": "left", "clickCount": 1})

    def type(self, selector, text):
        self.click(selector)
        self.call("Input.insertText", {"text": text})

    def screenshot(self):
        return base64.b64decode(self.call("Page.captureScreenshot", {"format": "png"})["data"])
