#!/usr/bin/env python3
"""Drives a replay page (`iovmarket replay`) in headless Chromium and checks its contract.

The DevTools protocol runs over Chromium's --remote-debugging-pipe (fd 3 in, fd 4 out,
NUL-separated JSON), so the standard library suffices. For each page it checks:
- no JS exception and no console error, and no network request besides the page itself;
- document.body.dataset.ready === "1" and window.iovReplay has slots, slot and goto;
- the vehicle marks (#map circle.veh) at slot 0 number --expect-vehicles (when given) and the
  page's own count of vehicles in view;
- goto(k) changes the drawn trades and moves every chart cursor, and iovReplay.slot follows;
- the keyboard steps (ArrowRight, ArrowLeft);
and writes a screenshot of episode slot --screenshot-slot (frame slot - 1) to --screenshot.
It prints one JSON line with the measurements (first-frame time, file size, counts).

Exit status 0 when every check passes, 1 otherwise (the failures are printed).
"""

import argparse
import base64
import fcntl
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

# Waiting limits, against a hung browser only: the checks never depend on speed.
READY_WAIT_S = 120.0


class Chromium:
    """A headless Chromium speaking CDP over a pipe."""

    def __init__(self, binary):
        self.profile = tempfile.TemporaryDirectory(prefix="iov-chromium-")
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()

        def wire_pipes():
            # Chromium reads commands on fd 3 and writes replies on fd 4.
            a = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
            "--remote-debugging-pipe",
            "--user-data-dir=" + self.profile.name,
            "about:blank",
        ]
        self.proc = subprocess.Popen(
            [binary] + flags,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=wire_pipes,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            if time.monotonic() > deadline:
                raise TimeoutError("no reply from Chromium")
            chunk = os.read(self.from_child, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, params=None, session=None, wait_s=READY_WAIT_S):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + wait_s
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def close(self):
        try:
            self.send("Browser.close", wait_s=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_child)
        os.close(self.from_child)
        self.profile.cleanup()


class Page:
    def __init__(self, browser, width, height):
        self.b = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send(
            "Target.attachToTarget", {"targetId": target, "flatten": True}
        )["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def call(self, method, params=None):
        return self.b.send(method, params, session=self.session)

    def eval(self, expression):
        r = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def key(self, key, code, vk):
        for kind in ("keyDown", "keyUp"):
            self.call(
                "Input.dispatchKeyEvent",
                {"type": kind, "key": key, "code": code, "windowsVirtualKeyCode": vk},
            )

    def errors(self):
        """JS exceptions, console errors and log errors seen so far on this page."""
        out = []
        for e in self.b.events:
            if e.get("sessionId") != self.session:
                continue
            m, p = e["method"], e.get("params", {})
            if m == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                out.append("exception: " + d.get("exception", {}).get("description", d.get("text", "")))
            elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console.error: " + " ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
            elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append("log: " + p["entry"].get("text", ""))
        return out

    def requests(self):
        return [
            e["params"]["request"]["url"]
            for e in self.b.events
            if e.get("sessionId") == self.session and e["method"] == "Network.requestWillBeSent"
        ]


# What the page draws, read from the DOM (not from the page's own bookkeeping).
SNAPSHOT_JS = """(() => {
  const map = document.getElementById('map');
  const trades = [...map.querySelectorAll('line.trade')]
    .map(l => [l.getAttribute('x1'), l.getAttribute('y1'), l.getAttribute('x2'), l.getAttribute('y2')].join(','));
  const labels = [...map.querySelectorAll('text.price')].map(t => t.textContent);
  return {
    slot: window.iovReplay.slot,
    vehicles: map.querySelectorAll('circle.veh').length,
    trades: trades.join(';'),
    tradeCount: trades.length,
    labels: labels.join(','),
    cursors: [...document.querySelectorAll('line.cursor')].map(c => c.getAttribute('x1')),
    label: document.getElementById('slotlabel').textContent,
  };
})()"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("page", type=pathlib.Path)
    ap.add_argument("--chromium", default="chromium")
    ap.add_argument("--expect-vehicles", type=int, help="vehicle marks expected at slot 0")
    ap.add_argument("--goto", type=int, default=10, help="frame k for the goto(k) check")
    ap.add_argument("--screenshot", type=pathlib.Path, help="PNG of the page at --screenshot-slot")
    ap.add_argument("--screenshot-slot", type=int, default=10, help="episode slot (1-based)")
    ap.add_argument("--width", type=int, default=1440)
    ap.add_argument("--height", type=int, default=1000)
    args = ap.parse_args()

    failures = []

    def check(ok, what):
        if not ok:
            failures.append(what)

    url = args.page.resolve().as_uri()
    browser = Chromium(args.chromium)
    result = {"page": str(args.page), "bytes": args.page.stat().st_size}
    try:
        page = Page(browser, args.width, args.height)
        started = time.monotonic()
        page.call("Page.navigate", {"url": url})
        deadline = started + READY_WAIT_S
        ready = None
        while time.monotonic() < deadline:
            ready = page.eval("document.body ? document.body.dataset.ready || null : null")
            if ready == "1" or page.errors():
                break
            time.sleep(0.02)
        result["ready_seen_ms"] = round((time.monotonic() - started) * 1000)
        check(ready == "1", f"document.body.dataset.ready is {ready!r}, expected '1'")
        if ready == "1":
            title = page.eval("document.title")
            check(title.startswith("iovmarket replay"), f"title {title!r}")
            api = page.eval(
                "[typeof iovReplay.slots, typeof iovReplay.slot, typeof iovReplay.goto, iovReplay.slots]"
            )
            check(api[:3] == ["number", "number", "function"], f"iovReplay API: {api}")
            slots = api[3]
            result["slots"] = slots
            result["first_frame_ms"] = round(page.eval("iovReplay.firstFrameMs"), 1)
            s0 = page.eval(SNAPSHOT_JS)
            in_view, every = page.eval(
                "(() => { const d = JSON.parse(document.getElementById('replay-data').textContent);"
                " return [d.series.in_view[0], d.sample_every]; })()"
            )
            result["vehicles_slot0"] = s0["vehicles"]
            check(s0["slot"] == 0, f"slot after load is {s0['slot']}")
            if every == 1:
                check(s0["vehicles"] == in_view, f"{s0['vehicles']} vehicle marks, {in_view} vehicles in view")
            else:
                # Sampled: every k-th vehicle by id plus the traders, so fewer than in view.
                check(0 < s0["vehicles"] < in_view, f"{s0['vehicles']} vehicle marks, {in_view} in view, every {every}th")
            if args.expect_vehicles is not None:
                check(
                    s0["vehicles"] == args.expect_vehicles,
                    f"{s0['vehicles']} vehicle marks at slot 0, expected {args.expect_vehicles}",
                )
            check(len(s0["cursors"]) == 6, f"{len(s0['cursors'])} chart cursors, expected 6")
            k = min(args.goto, slots - 1)
            page.eval(f"iovReplay.goto({k})")
            sk = page.eval(SNAPSHOT_JS)
            check(sk["slot"] == k, f"after goto({k}) slot is {sk['slot']}")
            check(sk["trades"] != s0["trades"], f"goto({k}) left the drawn trades unchanged")
            moved = all(a != b for a, b in zip(s0["cursors"], sk["cursors"]))
            check(moved, f"goto({k}) did not move every chart cursor: {s0['cursors']} -> {sk['cursors']}")
            check(sk["label"] == f"slot {k + 1} / {slots}", f"slot label {sk['label']!r}")
            result["trades_slot0"], result[f"trades_slot{k}"] = s0["tradeCount"], sk["tradeCount"]
            # Keyboard: right then left arrow.
            page.key("ArrowRight", "ArrowRight", 39)
            check(page.eval("iovReplay.slot") == min(k + 1, slots - 1), "ArrowRight did not step forward")
            page.key("ArrowLeft", "ArrowLeft", 37)
            check(page.eval("iovReplay.slot") == k, "ArrowLeft did not step back")
            # Out-of-range goto clamps.
            check(page.eval("iovReplay.goto(1e9)") == slots - 1, "goto past the end does not clamp")
            if args.screenshot:
                frame = min(max(args.screenshot_slot - 1, 0), slots - 1)
                page.eval(f"iovReplay.goto({frame})")
                # Hover the first vehicle so the screenshot shows the details panel too.
                page.eval(
                    "(() => { const v = document.querySelector('#map circle.veh.pend') ||"
                    " document.querySelector('#map circle.veh');"
                    " if (v) v.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})); })()"
                )
                info = page.eval("document.getElementById('info').textContent")
                check("valuation" in info and "bid" in info and "payment" in info, f"vehicle details: {info!r}")
                shot = page.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
                args.screenshot.parent.mkdir(parents=True, exist_ok=True)
                args.screenshot.write_bytes(base64.b64decode(shot["data"]))
                result["screenshot"] = str(args.screenshot)
        errors = page.errors()
        check(not errors, f"JS errors: {errors}")
        others = [u for u in page.requests() if u != url]
        check(not others, f"network requests besides the page: {others}")
    finally:
        browser.close()
    print(json.dumps(result))
    for f in failures:
        print(f"FAIL {args.page}: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
