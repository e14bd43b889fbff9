#!/usr/bin/env python3
"""The review screen's latency, as a reviewer feels it: from a key press to the end of the next complete sixel
image, over a pty that answers DA1 as a sixel terminal would, at 140x45 cells of 10x20 pixels.

    python3 scripts/latency.py [--keys 40] [--gap 0.3] [--binary .build/release/fracview] [DATASET]

It first runs the screen until the model has finished the split, so predictions come from the cache; then it
presses -> (next case) and g (X-ray -> Grad-CAM -> attention) each --keys times, then + (zoom in) and = (fit) in
turns, one at a time, and prints the
median, 90th percentile and maximum in milliseconds. Only the Python standard library is used.
"""
import argparse
import fcntl
import os
import pty
import select
import sqlite3
import statistics
import struct
import sys
import tempfile
import termios
import time

COLS, ROWS, CELL_W, CELL_H = 140, 45, 10, 20
DA1_QUERY = b"\x1b[c"
DA1_SIXEL = b"\x1b[?62;4;22c"
SIXEL_START = b"\x1bP"
SIXEL_END = b"\x1b\\"


class Screen:
    """The app on a pty: writes keys, reads output, answers DA1."""

    def __init__(self, argv, env):
        pid, fd = pty.fork()
        if pid == 0:
            os.execvpe(argv[0], argv, env)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, COLS * CELL_W, ROWS * CELL_H))
        self.buffer = b""

    def read(self, timeout):
        """Reads what arrives within `timeout` seconds; returns the new bytes."""
        end = time.monotonic() + timeout
        got = b""
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                break
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
            if DA1_QUERY in chunk:
                os.write(self.fd, DA1_SIXEL)
            # Return promptly once a sixel has ended: the caller is timing it.
            if SIXEL_END in chunk and SIXEL_START in self.buffer + got:
                break
        self.buffer = (self.buffer + got)[-1_000_000:]
        return got

    def press(self, key, gap=0.3, timeout=5.0):
        """Milliseconds from writing `key` to the end of the next complete sixel image, `gap` s after the last."""
        self.read(gap)  # let the previous frame settle (a reviewer looks at it)
        self.buffer = b""
        start = time.monotonic()
        os.write(self.fd, key)
        seen = b""
        while time.monotonic() - start < timeout:
            seen += self.read(timeout - (time.monotonic() - start))
            s = seen.rfind(SIXEL_START)
            if s >= 0 and seen.find(SIXEL_END, s) >= 0:
                return (time.monotonic() - start) * 1000
        return None

    def peak_rss_mb(self):
        """The review process's peak resident memory so far (VmHWM), or None where /proc has no such line."""
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return None

    def quit(self):
        os.write(self.fd, b"q")
        self.read(1.0)
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset", nargs="?", default=None)
    ap.add_argument("--binary", default=".build/release/fracview")
    ap.add_argument("--keys", type=int, default=40, help="presses of each key (default 40)")
    ap.add_argument("--gap", type=float, default=0.3,
                    help="seconds between the end of one image and the next press (default 0.3: a quick look)")
    ap.add_argument("--warm-timeout", type=float, default=600, help="seconds to wait for the model to finish")
    args = ap.parse_args()
    db = os.path.join(tempfile.mkdtemp(prefix="fracview-latency-"), "review.sqlite")
    argv = [args.binary, "review"] + ([args.dataset] if args.dataset else []) + ["--db", db, "--reviewer", "latency"]
    env = dict(os.environ, TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8")
    env.pop("TMUX", None)

    # 1. Warm the prediction cache: wait until the database's cache stops growing (the model has done the split).
    warm = Screen(argv, env)
    start = time.monotonic()
    done, last, stable = False, -1, 0
    while time.monotonic() - start < args.warm_timeout and not done:
        warm.read(2.0)
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
                count = con.execute("SELECT COUNT(*) FROM prediction_cache").fetchone()[0]
        except sqlite3.Error:
            count = -1
        stable = stable + 1 if count == last and count > 0 else 0
        last = count
        done = stable >= 3
    warm_rss = warm.peak_rss_mb()
    warm.quit()
    print(f"cache warmed in {time.monotonic() - start:.0f} s ({last} predictions)"
          + ("" if done else " (timed out: figures include inference)"), flush=True)

    # 2. Measure, with predictions cached.
    screen = Screen(argv, env)
    screen.read(8.0)
    results = {}
    for name, key in [("-> next case", b"\x1b[C"), ("g view toggle", b"g")]:
        times = [t for t in (screen.press(key, args.gap) for _ in range(args.keys)) if t is not None]
        results[name] = times
    # Zoom: + (one step in) then = (fit again), in turns.
    zoom_in, fit = [], []
    for _ in range(args.keys):
        zoom_in.append(screen.press(b"+", args.gap))
        fit.append(screen.press(b"=", args.gap))
    results["+ zoom in"] = [t for t in zoom_in if t is not None]
    results["= fit"] = [t for t in fit if t is not None]
    screen_rss = screen.peak_rss_mb()
    screen.quit()
    print(f"{'key':<16}{'n':>4}{'median':>9}{'p90':>8}{'max':>8}   (ms, key press to the end of the next sixel image)")
    for name, times in results.items():
        if not times:
            print(f"{name:<16}   0   no sixel image came back")
            continue
        times.sort()
        p90 = times[min(len(times) - 1, int(round(0.9 * (len(times) - 1))))]
        print(f"{name:<16}{len(times):>4}{statistics.median(times):>9.1f}{p90:>8.1f}{max(times):>8.1f}")
    if warm_rss is not None and screen_rss is not None:
        print(f"peak RSS of the review process: {warm_rss:.0f} MB while the model ran over the dataset, "
              f"{screen_rss:.0f} MB in the measured session (VmHWM)")


if __name__ == "__main__":
    sys.exit(main())
