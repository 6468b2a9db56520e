#!/usr/bin/python3
"""Runs one example against a fresh broker-ref, as the test suite does.

    run_example.py BROKER_REF [broker-ref args...] -- EXAMPLE [args...]

Starts BROKER_REF on a temporary data dir and a free loopback port (with
the given arguments, e.g. --set num.partitions=3; test/interop/run_broker.py
does the starting and stopping), runs `EXAMPLE BOOTSTRAP args...`, stops
the broker and exits with the example's status.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "interop"))
import run_broker  # noqa: E402


def main(argv):
    if "--" not in argv or argv.index("--") == 0 or argv.index("--") == len(argv) - 1:
        print(__doc__, file=sys.stderr)
        return 2
    sep = argv.index("--")
    broker_exe, broker_args, example = argv[0], argv[1:sep], argv[sep + 1:]
    run_broker.exit_on_sigterm()
    try:
        with run_broker.Broker(broker_exe, extra_args=broker_args) as b:
            print(f"run_example: broker-ref listening on {b.bootstrap}", file=sys.stderr)
            rc = subprocess.run([example[0], b.bootstrap] + example[1:]).returncode
    except run_broker.BrokerError as e:
        print(f"run_example: {e}", file=sys.stderr)
        return 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
