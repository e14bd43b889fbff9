"""Drives the real fracview review screen in a pseudo-terminal: start it, type keys one at a time, read what it drew."""
import os
import pty
import select
import signal
import subprocess
import time


class Screen:
    def __init__(self, argv, env, cols=140, rows=45):
        self.master, slave = pty.openpty()
        import fcntl
        import struct
        import termios
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=dict(env, TERM="xterm-256color"),
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.output = b""

    def read(self, seconds):
        end = time.time() + seconds
        while time.time() < end:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                self.output += chunk

    def wait_for(self, text, seconds=60):
        end = time.time() + seconds
        while time.time() < end:
            if text.encode() in self.output:
                return True
            self.read(0.2)
            if self.proc.poll() is not None:
                self.read(0.2)
                return text.encode() in self.output
        return False

    def key(self, k, pause=0.5):
        os.write(self.master, k.encode())
        self.read(pause)

    def quit(self, seconds=20):
        self.key("q")
        try:
            self.proc.wait(seconds)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            raise
        self.read(0.3)
        os.close(self.master)
        return self.proc.returncode

    @property
    def text(self):
        return self.output.decode("utf-8", "replace")
