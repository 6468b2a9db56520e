#!/usr/bin/python3
"""Starts broker-ref for the interop tests (stdlib only).

As a module:
    with run_broker.Broker() as b:      # exe from $BROKER_REF
        use(b.bootstrap)                # "127.0.0.1:PORT"
        b.restart()                     # SIGTERM, start again on the same data dir and port
        b.kill9(); b.start()            # crash, start again
    # leaving the block stops it (SIGTERM, then SIGKILL) and removes the data dir

As a command, it runs a test against a fresh broker and returns the test's status:
    run_broker.py [--broker EXE] [--skip REASON] [--npm-ci DIR] -- CMD ARGS...
CMD sees BOOTSTRAP=host:port. --skip prints "SKIP: REASON" and exits 77 (meson's
skip code) without starting anything: meson passes it when a tool is missing.
--npm-ci runs `npm ci` in DIR first unless DIR/node_modules matches its lock file.
A broker that does not exit 0 on SIGTERM fails the test.

Environment: BROKER_REF (executable), BROKER_REF_ARGS (extra arguments, split on
spaces, e.g. "--set key=value"), KFK_INTEROP_KEEP=1 keeps the data dir and log.
"""
import fcntl
import hashlib
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
LISTEN_RE = re.compile(r"^broker-ref listening on (\S+)$")


class BrokerError(RuntimeError):
    pass


class Broker:
    def __init__(self, exe=None, data_dir=None, extra_args=None, start_timeout=20.0):
        self.exe = exe or os.environ.get("BROKER_REF")
        if not self.exe:
            raise BrokerError("no broker: set BROKER_REF=/path/to/broker-ref (or pass --broker EXE)")
        if not os.access(self.exe, os.X_OK):
            raise BrokerError(f"broker executable {self.exe!r} does not exist or is not executable")
        self.keep = os.environ.get("KFK_INTEROP_KEEP") == "1"
        self.tmp = tempfile.mkdtemp(prefix="kfk-interop-")
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.log_path = os.path.join(self.tmp, "broker.log")
        if extra_args is None:
            extra_args = os.environ.get("BROKER_REF_ARGS", "").split()
        self.extra_args = list(extra_args)
        self.start_timeout = start_timeout
        self.proc = None
        self.bootstrap = None
        self.starts = 0

    # -- lifecycle -------------------------------------------------------
    def start(self, listen=None):
        """Starts the broker; returns the bootstrap address. listen defaults to
        the previous address after a restart (so clients can reconnect), else port 0."""
        if self.proc is not None:
            raise BrokerError("broker already running")
        listen = listen or self.bootstrap or "127.0.0.1:0"
        argv = [self.exe, "--data-dir", self.data_dir, "--listen", listen] + self.extra_args
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(f"==== start #{self.starts}: {' '.join(argv)}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
        try:
            line = self._read_listen_line(log)
        except BrokerError:
            log.close()
            raise
        m = LISTEN_RE.match(line)
        if not m:
            log.close()
            self._abort(f"first stdout line is {line!r}, expected 'broker-ref listening on HOST:PORT'")
        self.bootstrap = m.group(1)
        # Keep draining stdout into the log so the broker never blocks on a full pipe.
        threading.Thread(target=self._drain, args=(self.proc.stdout, log), daemon=True).start()
        return self.bootstrap

    def _read_listen_line(self, log):
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        buf = b""
        deadline = time.monotonic() + self.start_timeout
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                self._abort(f"no 'listening' line within {self.start_timeout:.0f} s (got {buf!r})")
            if not sel.select(left):
                continue
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                rc = self.proc.wait()
                self._abort(f"broker exited with status {rc} before printing its listening line (got {buf!r})")
            buf += chunk
        sel.close()
        line = buf.split(b"\n", 1)[0]
        log.write(b"[stdout] " + buf)
        log.flush()
        return line.decode(errors="replace").rstrip("\r")

    @staticmethod
    def _drain(pipe, log):
        for chunk in iter(lambda: pipe.read1(4096), b""):
            log.write(b"[stdout] " + chunk)
            log.flush()
        log.close()

    def _abort(self, why):
        if self.proc:
            self._kill(self.proc)
        self.proc = None
        raise BrokerError(f"{why}\n{self.log_tail()}")

    def stop(self, timeout=15.0):
        """SIGTERM, wait; SIGKILL if it hangs. Returns the exit status; raises
        BrokerError unless the broker exited 0 on SIGTERM."""
        if self.proc is None:
            return 0
        proc, self.proc = self.proc, None
        if proc.poll() is not None:
            raise BrokerError(f"broker had already exited with status {proc.returncode}\n{self.log_tail()}")
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill(proc)
            raise BrokerError(f"broker still running {timeout:.0f} s after SIGTERM: killed\n{self.log_tail()}")
        if rc != 0:
            raise BrokerError(f"broker exited with status {rc} after SIGTERM, expected 0\n{self.log_tail()}")
        return rc

    def kill9(self):
        """SIGKILL, like a crash."""
        if self.proc is not None:
            self._kill(self.proc)
            self.proc = None

    @staticmethod
    def _kill(proc):
        proc.kill()
        proc.wait()

    def restart(self):
        self.stop()
        return self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode(errors="replace").splitlines()[-lines:]
        except OSError:
            return "(no broker log)"
        return f"--- last {len(text)} lines of {self.log_path} ---\n" + "\n".join(text)

    def close(self):
        try:
            if self.proc is not None:
                self.kill9()
        finally:
            if self.keep:
                print(f"run_broker: kept {self.tmp}", file=sys.stderr)
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.stop()
        finally:
            if exc_type is not None:
                if self.proc is not None and self.proc.poll() is not None:
                    print(f"run_broker: the broker died during the test (status {self.proc.returncode})", file=sys.stderr)
                print(self.log_tail(), file=sys.stderr)
            self.close()


def exit_on_sigterm():
    """Turns SIGTERM (meson's timeout) into SystemExit, so that the cleanup in
    Broker.__exit__ / close() runs. The broker stays in the caller's process
    group, so a SIGKILL of the whole group takes it down too."""
    def handler(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)


def npm_ci(prefix):
    """Runs `npm ci` in prefix unless node_modules already matches package-lock.json.
    Serialized by a lock so parallel meson tests do not install over each other."""
    prefix = os.path.realpath(prefix)
    lock_file = os.path.join(prefix, "package-lock.json")
    want = hashlib.sha256(open(lock_file, "rb").read()).hexdigest()
    stamp = os.path.join(prefix, "node_modules", ".kfk-lock-sha256")
    lock_path = os.path.join(tempfile.gettempdir(), "kfk-npm-ci-" + hashlib.sha256(prefix.encode()).hexdigest()[:12] + ".lock")
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if open(stamp).read().strip() == want:
                return
        except OSError:
            pass
        npm = os.environ.get("NPM", "npm")
        cmd = [npm, "ci", "--prefix", prefix, "--no-audit", "--no-fund", "--loglevel=error"]
        print("run_broker: " + " ".join(cmd), file=sys.stderr)
        subprocess.run(cmd, check=True, stdout=sys.stderr)
        with open(stamp, "w") as f:
            f.write(want + "\n")


def main(argv):
    exe = skip = npm_prefix = None
    while argv and argv[0] != "--":
        opt = argv.pop(0)
        if opt in ("--broker", "--skip", "--npm-ci") and argv:
            val = argv.pop(0)
            if opt == "--broker":
                exe = val
            elif opt == "--skip":
                skip = val
            else:
                npm_prefix = val
        elif not opt.startswith("-") and exe is None:
            exe = opt
        else:
            print(__doc__, file=sys.stderr)
            return 2
    cmd = argv[1:]
    if skip:
        print(f"SKIP: {skip}")
        return SKIP
    exit_on_sigterm()
    if npm_prefix:
        try:
            npm_ci(npm_prefix)
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"FAIL: npm ci in {npm_prefix} failed: {e}", file=sys.stderr)
            return 1
    try:
        b = Broker(exe)
    except BrokerError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    try:
        bootstrap = b.start()
        print(f"run_broker: broker-ref listening on {bootstrap} (data dir {b.data_dir})", file=sys.stderr)
        if not cmd:  # interactive: keep it up until Ctrl-C / SIGTERM
            print(bootstrap, flush=True)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            try:
                while b.alive():
                    time.sleep(0.5)
            except (KeyboardInterrupt, SystemExit):
                pass
            if b.proc.poll() == 0:  # Ctrl-C reached the broker too: it shut down by itself
                b.proc = None
            b.stop()
            return 0
        env = dict(os.environ, BOOTSTRAP=bootstrap, BROKER_REF=b.exe)
        rc = subprocess.run(cmd, env=env).returncode
        if rc not in (0, SKIP):
            print(b.log_tail(), file=sys.stderr)
        b.stop()
        return rc
    except BrokerError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        return 1
    finally:
        b.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
