#!/usr/bin/python3
"""Tests of the kfk command-line tool against a fresh broker-ref.

Environment: KFK (the tool), BROKER_REF (the broker), KCAT (optional: the
-P read-back checks need it; without it they are skipped with a note).
Uses test/interop/run_broker.py to run the broker on a temp dir and a free
port. Exits non-zero on the first failed check.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import run_broker  # noqa: E402

KFK = os.environ["KFK"]
KCAT = os.environ.get("KCAT")
failures = []


def run(args, stdin=b"", timeout=60):
    p = subprocess.run([KFK] + args, input=stdin, capture_output=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def check(cond, what, detail=""):
    if cond:
        print(f"ok: {what}")
    else:
        print(f"FAIL: {what}\n{detail}")
        failures.append(what)


def kcat_consume(bootstrap, topic, fmt, count):
    p = subprocess.run([KCAT, "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
                        "-c", str(count), "-f", fmt], capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def test_usage():
    rc, out, err = run(["--help"])
    check(rc == 0 and b"kfk -L" in out and b"perf produce" in out, "--help prints the modes", err)
    for mode in (["-L", "--help"], ["-P", "--help"], ["topics", "--help"], ["perf", "produce", "--help"]):
        rc, out, err = run(mode)
        check(rc == 0 and len(out) > 100, f"{' '.join(mode)} prints help", err)
    rc, out, err = run(["-L", "-b", "127.0.0.1:1", "--no-such-flag"])
    check(rc == 2 and b"unknown option --no-such-flag" in err and b"usage:" in err,
          "unknown long flag exits 2 with a usage line", err)
    rc, out, err = run(["-P", "-b", "127.0.0.1:1", "-t", "t", "-Q"])
    check(rc == 2 and b"unknown option -Q" in err and b"usage:" in err, "unknown short flag exits 2", err)
    rc, out, err = run(["frobnicate"])
    check(rc == 2 and b"usage:" in err, "unknown mode exits 2", err)
    rc, out, err = run(["-P", "-b", "127.0.0.1:1"])
    check(rc == 2 and b"-t TOPIC is required" in err, "-P without -t exits 2", err)


def test_bad_config(bootstrap):
    rc, out, err = run(["-L", "-b", bootstrap, "-X", "no.such.key=1"])
    check(rc == 2 and b"no.such.key" in err, "-L with an unknown -X key exits 2 naming it", err)
    rc, out, err = run(["-P", "-b", bootstrap, "-t", "x", "-X", "linger.ms=soon"], stdin=b"a\n")
    check(rc == 2 and b"linger.ms" in err, "-P with a bad -X value exits 2 naming the key", err)
    rc, out, err = run(["perf", "produce", "-b", bootstrap, "-t", "x", "--num-records", "1", "--record-size", "1",
                        "-X", "acks=2"])
    check(rc == 2 and b"acks" in err, "perf produce with a bad -X value exits 2 naming the key", err)
    rc, out, err = run(["topics", "list", "-b", bootstrap, "-X", "request.timeout.ms"])
    check(rc == 2 and b"key=value" in err, "-X without '=' exits 2", err)


def test_topics_and_metadata(bootstrap):
    rc, out, err = run(["topics", "create", "tool-topic", "-b", bootstrap, "--partitions", "3",
                        "--replication-factor", "1", "--config", "retention.ms=3600000"])
    check(rc == 0 and b"Created topic tool-topic." in out, "topics create", out + err)
    rc, out, err = run(["topics", "create", "tool-topic", "-b", bootstrap, "--partitions", "3"])
    check(rc == 1 and b"TOPIC_ALREADY_EXISTS" in err, "topics create again fails naming the error", err)
    rc, out, err = run(["topics", "list", "-b", bootstrap])
    check(rc == 0 and b"tool-topic\n" in out, "topics list shows it", out + err)
    rc, out, err = run(["topics", "describe", "tool-topic", "-b", bootstrap])
    check(rc == 0 and b"PartitionCount: 3" in out and b"\tPartition: 2\tLeader: 1\tReplicas: 1\tIsr: 1" in out,
          "topics describe", out + err)

    rc, out, err = run(["-L", "-b", bootstrap])
    text = out.decode()
    check(rc == 0 and "Metadata for all topics (from broker 1: " in text and " 1 brokers:\n" in text
          and "(controller)" in text, "-L header and brokers in kcat's layout", out + err)
    check('  topic "tool-topic" with 3 partitions:\n' in text
          and "    partition 0, leader 1, replicas: 1, isrs: 1\n" in text
          and "    partition 2, leader 1, replicas: 1, isrs: 1\n" in text,
          "-L shows the created topic's partitions", text)
    rc, out, err = run(["-L", "-b", bootstrap, "-t", "tool-topic", "-J"])
    try:
        md = json.loads(out)
        t = md["topics"][0]
        ok = (rc == 0 and md["controllerid"] == 1 and md["brokers"][0]["id"] == 1 and t["topic"] == "tool-topic"
              and len(t["partitions"]) == 3 and t["partitions"][1]["replicas"] == [{"id": 1}]
              and t["partitions"][1]["isrs"] == [{"id": 1}])
    except (ValueError, KeyError, IndexError) as e:
        ok = False
        err += str(e).encode()
    check(ok, "-L -J is kcat's JSON", out + err)

    rc, out, err = run(["topics", "delete", "tool-topic", "-b", bootstrap])
    check(rc == 0 and b"Deleted topic tool-topic." in out, "topics delete", out + err)
    rc, out, err = run(["topics", "describe", "tool-topic", "-b", bootstrap])
    check(rc == 1 and b"UNKNOWN_TOPIC_OR_PARTITION" in err, "describe a deleted topic fails naming the error", err)


def test_produce(bootstrap):
    run(["topics", "create", "p-plain", "p-keyed", "-b", bootstrap, "--partitions", "1"])
    lines = [b"hello", b"", b"tab\there", "unicod\u00e9".encode(), b"last-without-newline"]
    rc, out, err = run(["-P", "-b", bootstrap, "-t", "p-plain", "-p", "0"], stdin=b"\n".join(lines))
    check(rc == 0, "-P plain lines", err)
    rc, out, err = run(["-P", "-b", bootstrap, "-t", "p-keyed", "-p", "0", "-K", ":", "-H", "h1=v1", "-H", "h2=v=2",
                        "-z", "lz4"], stdin=b"k1:v1\nk2:v:2\nnokey\n")
    check(rc == 0, "-P with -K, -H and -z", err)
    if not KCAT:
        print("note: kcat not found, read-back checks skipped")
        return
    rc, out, err = kcat_consume(bootstrap, "p-plain", "%s\\n--\\n", len(lines))
    check(rc == 0 and out == b"".join(l + b"\n--\n" for l in lines), "kcat reads -P records byte for byte",
          repr(out) + err.decode())
    rc, out, err = kcat_consume(bootstrap, "p-keyed", "%k|%s|%h\\n", 3)
    want = b"k1|v1|h1=v1,h2=v=2\nk2|v:2|h1=v1,h2=v=2\n|nokey|h1=v1,h2=v=2\n"
    check(rc == 0 and out == want, "kcat reads -K keys and -H headers", repr(out) + err.decode())

    # A record that cannot be delivered: the exit status and the error say so.
    rc, out, err = run(["-P", "-b", bootstrap, "-t", "p-plain", "-p", "7", "-X", "max.block.ms=2000",
                        "-X", "delivery.timeout.ms=3000", "-X", "request.timeout.ms=2000", "-X", "linger.ms=0"],
                       stdin=b"x\n")
    check(rc == 1 and b"failed" in err, "-P exits 1 naming the error when a record fails", err)


def test_perf(bootstrap):
    run(["topics", "create", "perf", "-b", bootstrap, "--partitions", "2"])
    rc, out, err = run(["perf", "produce", "-b", bootstrap, "-t", "perf", "--num-records", "20000",
                        "--record-size", "100", "--json", "-X", "linger.ms=5"], timeout=120)
    try:
        s = json.loads(out)
        lat = s["latency_ms"]
        ok = (rc == 0 and s["records"] == 20000 and s["errors"] == 0 and s["records_per_sec"] > 0
              and s["mb_per_sec"] > 0 and all(k in lat for k in ("avg", "p50", "p99", "p999"))
              and 0 <= lat["p50"] <= lat["p99"] <= lat["p999"])
    except (ValueError, KeyError) as e:
        ok = False
        err += str(e).encode()
    check(ok, "perf produce --json summary parses and has the fields", out + err)
    print(f"perf: {out.decode().strip()}")
    if KCAT:
        p = subprocess.run([KCAT, "-b", bootstrap, "-C", "-t", "perf", "-o", "beginning", "-e", "-q", "-f", "%S\\n"],
                           capture_output=True, timeout=60)
        sizes = p.stdout.split()
        check(len(sizes) == 20000 and set(sizes) == {b"100"}, "kcat reads back every perf record", p.stderr)
    rc, out, err = run(["perf", "produce", "-b", bootstrap, "-t", "perf", "--num-records", "30",
                        "--record-size", "10", "--throughput", "20"], timeout=60)
    check(rc == 0 and b"30 records sent" in out and b"records/sec" in err,
          "perf produce text summary and per-second progress with --throughput", out + err)


def main():
    test_usage()
    with run_broker.Broker(extra_args=["--set", "auto.create.topics.enable=false"]) as b:
        bootstrap = b.bootstrap
        test_bad_config(bootstrap)
        test_topics_and_metadata(bootstrap)
        test_produce(bootstrap)
        test_perf(bootstrap)
    if failures:
        print(f"{len(failures)} check(s) failed: {failures}")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
