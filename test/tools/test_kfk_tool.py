#!/usr/bin/python3
"""Tests of the kfk command-line tool against a fresh broker-ref.

Environment: KFK (the tool), BROKER_REF (the broker), KCAT (optional: the
-P read-back checks need it; without it they are skipped with a note).
Uses test/interop/run_broker.py to run the broker on a temp dir and a free
port. Exits non-zero on the first failed check.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import run_broker  # noqa: E402

KFK = os.environ["KFK"]
KCAT = os.environ.get("KCAT")
failures = []


def run(args, stdin=b"", timeout=60):
    """Runs kfk; a run that exceeds `timeout` is killed and returns status None (a failed check, not a crash)."""
    try:
        p = subprocess.run([KFK] + args, input=stdin, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        return None, e.stdout or b"", (e.stderr or b"") + f"\n(killed after {timeout} s)".encode()
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
    check(rc == 0 and all(m in out for m in (b"kfk -L", b"kfk -C", b"kfk -G", b"kfk groups", b"perf consume")),
          "--help prints the modes", err)
    for mode in (["-L", "--help"], ["-P", "--help"], ["-C", "--help"], ["-G", "g", "--help"], ["topics", "--help"],
                 ["groups", "--help"], ["perf", "produce", "--help"], ["perf", "consume", "--help"]):
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


def test_version():
    version = os.environ.get("KFK_VERSION", "").encode()
    rc, out, err = run(["--version"])
    check(version and rc == 0 and out == b"kfk " + version + b"\n", "kfk --version prints the project version",
          out + err)
    p = subprocess.run([os.environ["BROKER_REF"], "--version"], capture_output=True, timeout=60)
    check(version and p.returncode == 0 and p.stdout == b"broker-ref " + version + b"\n",
          "broker-ref --version prints the project version", p.stdout + p.stderr)


def committed(bootstrap, group, topic, partition=0):
    """The group's committed offset of topic/partition per `kfk groups describe` ("-": none)."""
    rc, out, err = run(["groups", "describe", "--group", group, "-b", bootstrap])
    return describe_rows(out).get((topic, partition), [None] * 4)[3]


def test_commit_what_was_printed(bootstrap):
    """-G and -C with a group id commit the records printed, not the poll position."""
    rc, out, err = run(["topics", "create", "tenrecs", "-b", bootstrap, "--partitions", "1"])
    check(rc == 0, "create tenrecs", err)
    rc, out, err = run(["-P", "-b", bootstrap, "-t", "tenrecs"], stdin=b"".join(b"%d\n" % i for i in range(1, 11)))
    check(rc == 0, "produce 1..10", err)
    rc, out, err = run(["-G", "peek", "-b", bootstrap, "tenrecs", "-o", "beginning", "-c", "1", "-q"])
    check(rc == 0 and out == b"1\n", "-G -c 1 prints one record", out + err)
    c = committed(bootstrap, "peek", "tenrecs")
    check(c == "1", "-G -c 1 commits offset 1 (the record printed), not the poll position", c)
    rc, out, err = run(["-G", "peek", "-b", bootstrap, "tenrecs", "-c", "2", "-e", "-q"])
    check(rc == 0 and out == b"2\n3\n", "a second -G run continues at the next record", out + err)
    c = committed(bootstrap, "peek", "tenrecs")
    check(c == "3", "... and commits offset 3", c)
    rc, out, err = run(["-C", "-b", bootstrap, "-t", "tenrecs", "-X", "group.id=cpeek", "-o", "beginning", "-c", "4",
                        "-q"])
    check(rc == 0 and out == b"1\n2\n3\n4\n", "-C -X group.id -c 4 prints four records", out + err)
    c = committed(bootstrap, "cpeek", "tenrecs")
    check(c == "4", "-C with a group id commits offset 4", c)
    rc, out, err = run(["-C", "-b", bootstrap, "-t", "tenrecs", "-X", "group.id=cpeek", "-o", "stored", "-c", "1",
                        "-e", "-q"])
    check(rc == 0 and out == b"5\n", "-C -o stored continues at the next record", out + err)
    rc, out, err = run(["-G", "peek", "-b", bootstrap, "tenrecs", "-X", "enable.auto.commit=true", "-c", "1",
                        "-e"], timeout=30)
    check(rc == 2 and b"enable.auto.commit" in err, "-G refuses enable.auto.commit=true (it would commit unprinted "
          "records)", out + err)


def wait_exit(p, timeout=10):
    try:
        return p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return None


def test_interrupt(bootstrap):
    """SIGINT/SIGTERM end every mode, even against a broker that never answers."""
    unreachable = "127.0.0.1:1"
    for sig, args in ((signal.SIGINT, ["-C", "-b", unreachable, "-t", "t", "-e"]),
                      (signal.SIGTERM, ["-C", "-b", unreachable, "-t", "t", "-e"]),
                      (signal.SIGINT, ["-L", "-b", unreachable]),
                      (signal.SIGINT, ["topics", "list", "-b", unreachable]),
                      (signal.SIGINT, ["-G", "g", "-b", unreachable, "t"])):
        p = subprocess.Popen([KFK] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        time.sleep(1.5)  # into its first call to the broker
        p.send_signal(sig)
        rc = wait_exit(p)
        out, err = p.stdout.read(), p.stderr.read()
        # The metadata call cannot be cut short: the bounded exit path ends it with 128+signal.
        want = (0,) if args[0] == "-G" else (128 + sig,)
        check(rc in want, f"kfk {' '.join(args)} exits on {sig.name} with status {want} (got {rc})", out + err)

    # -P against an unreachable broker: one record stuck in send() (metadata), then stdin left open.
    p = subprocess.Popen([KFK, "-P", "-b", unreachable, "-t", "t"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.stdin.write(b"x\n")
    p.stdin.flush()
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    rc = wait_exit(p)
    check(rc == 130, f"kfk -P with a record stuck in send() (unreachable broker) exits 130 on SIGINT (got {rc})",
          p.stderr.read())
    p.stdin.close()

    # -P waiting on stdin: SIGINT ends the read, what was read is delivered.
    p = subprocess.Popen([KFK, "-P", "-b", bootstrap, "-t", "tenrecs"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdin.write(b"eleven\n")
    p.stdin.flush()
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    rc = wait_exit(p)
    check(rc == 0, f"kfk -P blocked reading stdin exits 0 on SIGINT (got {rc})", p.stderr.read())
    p.stdin.close()
    rc, out, err = run(["-C", "-b", bootstrap, "-t", "tenrecs", "-o", "-1", "-e", "-q"])
    check(out == b"eleven\n", "... after delivering the line it had read", out + err)

    # A live broker mid-consume: SIGINT, exit 0, and what was printed is committed.
    p = subprocess.Popen([KFK, "-G", "sigint-group", "-b", bootstrap, "tenrecs", "-o", "beginning", "-q"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(p.stdout.readline, b"")), daemon=True)
    reader.start()
    deadline = time.time() + 30
    while len(lines) < 11 and time.time() < deadline:
        time.sleep(0.05)
    p.send_signal(signal.SIGINT)
    rc = wait_exit(p)
    reader.join(10)
    err = p.stderr.read()
    check(len(lines) == 11 and rc == 0, f"kfk -G mid-consume exits 0 on SIGINT (got {rc}, {len(lines)} lines)",
          b"".join(lines) + err)
    c = committed(bootstrap, "sigint-group", "tenrecs")
    check(c == "11", "... having committed what it printed (offset 11)", c)


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


def stored_codecs(data_dir, topic):
    """The codec (attributes & 7) of every batch in the partition's first segment file."""
    path = os.path.join(data_dir, topic + "-0", "%020d.log" % 0)
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        data = f.read()
    codecs, pos = [], 0
    while pos + 61 <= len(data):
        length = int.from_bytes(data[pos + 8:pos + 12], "big")
        codecs.append(int.from_bytes(data[pos + 21:pos + 23], "big") & 7)
        pos += 12 + length
    return codecs


def test_topic_compression(bootstrap, data_dir):
    """compression.type=lz4: batches produced uncompressed are stored (and fetched) as lz4."""
    rc, out, err = run(["topics", "create", "c-lz4", "-b", bootstrap, "--partitions", "1",
                        "--config", "compression.type=lz4"])
    check(rc == 0, "topics create --config compression.type=lz4", out + err)
    if rc != 0:
        return
    rc, out, err = run(["-P", "-b", bootstrap, "-t", "c-lz4", "-p", "0", "-z", "none"], stdin=b"a1\na2\n")
    check(rc == 0, "-P uncompressed into an lz4 topic", err)
    want = b"a1\na2\n"
    if KCAT:
        p = subprocess.run([KCAT, "-b", bootstrap, "-P", "-t", "c-lz4", "-p", "0", "-z", "none"],
                           input=b"b1\nb2\n", capture_output=True, timeout=60)
        check(p.returncode == 0, "kcat -P uncompressed into an lz4 topic", p.stderr)
        want += b"b1\nb2\n"
    n = want.count(b"\n")
    rc, out, err = run(["-C", "-b", bootstrap, "-t", "c-lz4", "-o", "beginning", "-e", "-f", "%s\\n"])
    check(rc == 0 and out == want, "kfk -C reads the recompressed records", repr(out) + err.decode())
    if KCAT:
        rc, out, err = kcat_consume(bootstrap, "c-lz4", "%s\\n", n)
        check(rc == 0 and out == want, "kcat reads the recompressed records", repr(out) + err.decode())
    codecs = stored_codecs(data_dir, "c-lz4")
    check(len(codecs) >= 1 and set(codecs) == {3}, "every stored batch is lz4 (codec 3)", repr(codecs))
    rc, out, err = run(["topics", "create", "c-bad", "-b", bootstrap, "--config", "compression.type=brotli"])
    check(rc != 0 and b"compression.type" in err, "a bad compression.type is refused naming the key", out + err)


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

    # perf consume reads what perf produce wrote: 20000 x 100 + 30 x 10 bytes.
    for extra in ([], ["-g", "perf-group"]):
        rc, out, err = run(["perf", "consume", "-b", bootstrap, "-t", "perf", "--num-records", "20030", "--json"]
                           + extra, timeout=120)
        try:
            s = json.loads(out)
            ok = (rc == 0 and s["records"] == 20030 and s["bytes"] == 2000300 and s["records_per_sec"] > 0
                  and s["mb_per_sec"] > 0 and s["elapsed_ms"] > 0)
        except (ValueError, KeyError) as e:
            ok = False
            err += str(e).encode()
        check(ok, f"perf consume {' '.join(extra)} --json summary parses and counts every record", out + err)
        print(f"perf consume: {out.decode().strip()}")
    rc, out, err = run(["groups", "describe", "perf-group", "-b", bootstrap])
    check(rc == 0 and [r[5] for r in describe_rows(out).values()] == ["0", "0"],
          "perf consume -g commits: lag 0", out + err)
    rc, out, err = run(["perf", "consume", "-b", bootstrap, "-t", "perf", "--num-records", "30000",
                        "--timeout", "1000"], timeout=60)
    check(rc == 1 and b"read 20030 of 30000" in err and b"20030 records consumed" in out,
          "perf consume gives up after --timeout idle ms, exit 1", out + err)
    rc, out, err = run(["perf", "consume", "-b", bootstrap, "-t", "perf"])
    check(rc == 2 and b"--num-records" in err, "perf consume without --num-records exits 2", err)


def describe_rows(out):
    """The partition rows of `kfk groups describe`: {(topic, partition): [columns]}."""
    rows = {}
    for line in out.decode().splitlines():
        cols = line.split()
        if len(cols) == 9 and cols[0] != "GROUP" and cols[2].isdigit():
            rows[(cols[1], int(cols[2]))] = cols
    return rows


def kcat_group_consume(bootstrap, group, topic):
    """Consumes `topic` to its end as a member of `group` (kcat -G), committing on close."""
    p = subprocess.run([KCAT, "-b", bootstrap, "-G", group, topic, "-o", "beginning", "-e", "-q",
                        "-X", "log_level=0"], capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def test_consume(bootstrap):
    rc, out, err = run(["-C", "-b", bootstrap])
    check(rc == 2 and b"-t TOPIC is required" in err, "-C without -t exits 2", err)
    rc, out, err = run(["-C", "-b", bootstrap, "-t", "x", "-o", "yesterday"])
    check(rc == 2 and b"-o expects" in err, "-C with a bad -o exits 2", err)
    rc, out, err = run(["-C", "-b", bootstrap, "-t", "x", "-f", "%z"])
    check(rc == 2 and b"'%z'" in err, "-C with an unknown -f token exits 2", err)
    rc, out, err = run(["-G", "g", "-b", bootstrap])
    check(rc == 2 and b"at least one topic" in err, "-G without topics exits 2", err)
    rc, out, err = run(["-C", "-b", bootstrap, "-t", "no-such-topic", "-e"])
    check(rc == 1 and b"UNKNOWN_TOPIC_OR_PARTITION" in err, "-C on an unknown topic fails naming it", err)
    if not KCAT:
        print("note: KCAT not set, -C/-G read-back checks skipped")
        return
    rc, out, err = run(["topics", "create", "cons-topic", "-b", bootstrap, "--partitions", "2"])
    check(rc == 0, "create cons-topic", err)
    lines = [b"k1:v1", b"k2:v\ttwo", b":empty key", b"k4:%s percent", b"k5:five"]
    p = subprocess.run([KCAT, "-b", bootstrap, "-P", "-t", "cons-topic", "-p", "0", "-K", ":",
                        "-H", "h1=x", "-H", "h2=y y"], input=b"\n".join(lines) + b"\n",
                       capture_output=True, timeout=60)
    check(p.returncode == 0, "kcat -P with keys and headers", p.stderr)
    p = subprocess.run([KCAT, "-b", bootstrap, "-P", "-t", "cons-topic", "-p", "1"], input=b"p1-a\np1-b\n",
                       capture_output=True, timeout=60)
    fmt = "%t|%p|%o|%k|%s|%K|%S|%h|%%\\n"
    rc, out, err = run(["-C", "-b", bootstrap, "-t", "cons-topic", "-p", "0", "-e", "-q", "-f", fmt])
    want = b"".join(b"cons-topic|0|%d|%s|%s|%d|%d|h1=x,h2=y y|%%\n" % (i, l.split(b":", 1)[0], l.split(b":", 1)[1],
                                                                     len(l.split(b":", 1)[0]), len(l.split(b":", 1)[1]))
                    for i, l in enumerate(lines))
    check(rc == 0 and out == want and err == b"", "-C -e -f reads kcat's records back byte for byte", out + err)
    rc, out, err = run(["-C", "-b", bootstrap, "-t", "cons-topic", "-e", "-q"])
    check(rc == 0 and sorted(out.split(b"\n")[:-1]) == sorted([l.split(b":", 1)[1] for l in lines] + [b"p1-a", b"p1-b"]),
          "-C -e without -p reads every partition (default format: value and newline)", out + err)
    rc, out, err = run(["-C", "-b", bootstrap, "-t", "cons-topic", "-p", "0", "-o", "-2", "-e", "-q"])
    check(rc == 0 and out == b"k4:%s percent\n".split(b":", 1)[1] + b"five\n", "-o -2 reads the last two", out + err)
    rc, out, err = run(["-C", "-b", bootstrap, "-t", "cons-topic", "-p", "0", "-o", "3", "-e", "-q", "-f", "%o\\n"])
    check(rc == 0 and out == b"3\n4\n", "-o 3 starts at offset 3", out + err)
    rc, out, err = run(["-C", "-b", bootstrap, "-t", "cons-topic", "-p", "0", "-c", "2", "-q", "-f", "%o "])
    check(rc == 0 and out == b"0 1 ", "-c 2 stops after two records (no -e)", out + err)
    rc, out, err = run(["-C", "-b", bootstrap, "-t", "cons-topic", "-p", "0", "-o", "end", "-e", "-q"])
    check(rc == 0 and out == b"", "-o end -e exits with nothing", out + err)
    rc, out, err = run(["-C", "-b", bootstrap, "-t", "cons-topic", "-p", "0", "-o", "s@4102444800000", "-e", "-q"])
    check(rc == 0 and out == b"", "-o s@(far future) reads nothing", out + err)
    rc, out, err = run(["-C", "-b", bootstrap, "-t", "cons-topic", "-p", "0", "-o", "s@0", "-c", "1", "-q", "-f", "%o"])
    check(rc == 0 and out == b"0", "-o s@0 starts at the first record", out + err)

    # -G: consume as a group, commit, then the group has lag 0.
    rc, out, err = run(["-G", "kfk-group", "-b", bootstrap, "cons-topic", "-o", "beginning", "-e", "-q"])
    check(rc == 0 and len(out.split(b"\n")) - 1 == 7, "-G -e reads all 7 records", out + err)
    rc, out, err = run(["groups", "describe", "kfk-group", "-b", bootstrap])
    rows = describe_rows(out)
    check(rc == 0 and rows.get(("cons-topic", 0), [None] * 6)[3:6] == ["5", "5", "0"]
          and rows.get(("cons-topic", 1), [None] * 6)[3:6] == ["2", "2", "0"],
          "groups describe after -G: lag 0 everywhere", out + err)
    rc, out, err = run(["-G", "kfk-group", "-b", bootstrap, "cons-topic", "-e", "-q"])
    check(rc == 0 and out == b"", "-G again reads nothing (offsets committed)", out + err)
    rc, out, err = run(["groups", "reset-offsets", "-b", bootstrap, "--group", "kfk-group", "--topic", "cons-topic",
                        "--to-earliest"])
    check(rc == 0, "reset-offsets --to-earliest for the kfk group", out + err)
    rc, out, err = run(["-G", "kfk-group", "-b", bootstrap, "cons-topic", "-e", "-q"])
    check(rc == 0 and len(out.split(b"\n")) - 1 == 7, "-G reads everything again after the reset", out + err)


def test_groups(bootstrap):
    rc, out, err = run(["groups", "--help"])
    check(rc == 0 and b"reset-offsets" in out, "groups --help", err)
    rc, out, err = run(["groups", "reset-offsets", "-b", bootstrap, "--group", "g", "--topic", "t"])
    check(rc == 2 and b"exactly one of" in err, "reset-offsets without a target exits 2", err)
    rc, out, err = run(["groups", "describe", "-b", bootstrap])
    check(rc == 2 and b"needs a group" in err, "groups describe without a group exits 2", err)
    rc, out, err = run(["groups", "describe", "nosuchgroup", "-b", bootstrap])
    check(rc == 1 and b"Consumer group 'nosuchgroup' does not exist." in err and out == b"",
          "groups describe of an unknown group says it does not exist, exit 1", out + err)
    rc, out, err = run(["groups", "describe", "-b", bootstrap, "--group", "nosuchgroup"])
    check(rc == 1 and b"Consumer group 'nosuchgroup' does not exist." in err,
          "groups describe takes --group GROUP (the README's form)", out + err)
    if not KCAT:
        print("note: KCAT not set, group membership checks skipped")
        return
    rc, out, err = run(["topics", "create", "grp-topic", "-b", bootstrap, "--partitions", "2"])
    check(rc == 0, "create grp-topic", err)
    for part, n in ((0, 3), (1, 2)):
        rc, out, err = run(["-P", "-b", bootstrap, "-t", "grp-topic", "-p", str(part)],
                           stdin=b"".join(b"v%d-%d\n" % (part, i) for i in range(n)))
        check(rc == 0, f"produce to grp-topic/{part}", err)

    rc, out, err = kcat_group_consume(bootstrap, "tool-group", "grp-topic")
    check(rc == 0 and sorted(out.split()) == sorted(b"v0-0 v0-1 v0-2 v1-0 v1-1".split()),
          "kcat -G reads every record", out + err)
    rc, out, err = run(["groups", "list", "-b", bootstrap])
    check(rc == 0 and b"tool-group\tEmpty\tconsumer\n" in out, "groups list shows the empty group", out + err)
    rc, out, err = run(["groups", "list", "-b", bootstrap, "--state", "Stable"])
    check(rc == 0 and b"tool-group" not in out, "groups list --state Stable leaves it out", out + err)
    rc, out, err = run(["groups", "describe", "tool-group", "-b", bootstrap])
    rows = describe_rows(out)
    check(rc == 0 and b"state Empty" in out
          and rows.get(("grp-topic", 0), [None] * 6)[3:6] == ["3", "3", "0"]
          and rows.get(("grp-topic", 1), [None] * 6)[3:6] == ["2", "2", "0"],
          "groups describe: committed = log end, lag 0", out + err)

    # More records: lag shows up.
    rc, out, err = run(["-P", "-b", bootstrap, "-t", "grp-topic", "-p", "1"], stdin=b"v1-2\n")
    rc, out, err = run(["groups", "describe", "tool-group", "-b", bootstrap])
    check(rc == 0 and describe_rows(out).get(("grp-topic", 1), [None] * 6)[3:6] == ["2", "3", "1"],
          "groups describe: lag 1 after one more record", out + err)

    # A live member: reset and delete refuse; describe shows its assignment.
    member = subprocess.Popen([KCAT, "-b", bootstrap, "-G", "tool-group", "grp-topic", "-q", "-X", "log_level=0",
                               "-X", "client.id=live-member"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        out = b""
        while time.time() < deadline:
            rc, out, err = run(["groups", "describe", "tool-group", "-b", bootstrap])
            if b"state Stable" in out and len([r for r in describe_rows(out).values() if r[8] == "live-member"]) == 2:
                break
            time.sleep(0.2)
        check(b"state Stable" in out and b"1 member(s)" in out
              and all(r[8] == "live-member" for r in describe_rows(out).values()),
              "groups describe shows the live member owning both partitions", out)
        rc, out, err = run(["groups", "reset-offsets", "-b", bootstrap, "--group", "tool-group", "--topic",
                            "grp-topic", "--to-earliest"])
        check(rc == 1 and b"stop its consumers" in err, "reset-offsets refuses a group with members", out + err)
        rc, out, err = run(["groups", "delete", "tool-group", "-b", bootstrap])
        check(rc == 1 and b"NON_EMPTY_GROUP" in err, "groups delete refuses a group with members", out + err)
    finally:
        member.terminate()
        member.wait(timeout=30)
    deadline = time.time() + 20
    while time.time() < deadline:
        rc, out, err = run(["groups", "describe", "tool-group", "-b", bootstrap])
        if b"state Empty" in out:
            break
        time.sleep(0.2)

    rc, out, err = run(["groups", "reset-offsets", "-b", bootstrap, "--group", "tool-group", "--topic", "grp-topic",
                        "--partition", "0", "--to-offset", "1", "--dry-run"])
    check(rc == 0 and b"tool-group  grp-topic  0          1" in out, "reset-offsets --dry-run prints", out + err)
    rc, out, err = run(["groups", "describe", "tool-group", "-b", bootstrap])
    check(describe_rows(out).get(("grp-topic", 0), [None] * 4)[3] == "3", "--dry-run changes nothing", out)
    rc, out, err = run(["groups", "reset-offsets", "-b", bootstrap, "--group", "tool-group", "--topic", "grp-topic",
                        "--to-earliest"])
    check(rc == 0 and out.count(b"tool-group") == 2, "reset-offsets --to-earliest", out + err)
    rc, out, err = run(["groups", "describe", "tool-group", "-b", bootstrap])
    rows = describe_rows(out)
    check(rows.get(("grp-topic", 0), [None] * 6)[3:6] == ["0", "3", "3"]
          and rows.get(("grp-topic", 1), [None] * 6)[3:6] == ["0", "3", "3"], "describe after reset: lag 3 and 3", out)
    rc, out, err = kcat_group_consume(bootstrap, "tool-group", "grp-topic")
    check(rc == 0 and len(out.split()) == 6, "the group reads everything again after the reset", out + err)
    rc, out, err = run(["groups", "reset-offsets", "-b", bootstrap, "--group", "tool-group", "--topic", "grp-topic",
                        "--partition", "1", "--to-offset", "99"])
    check(rc == 0 and b"grp-topic  1          3" in out, "--to-offset is clamped to the log end", out + err)

    rc, out, err = run(["groups", "delete", "tool-group", "no-such-group", "-b", bootstrap])
    check(rc == 1 and b"Deleted group tool-group." in out and b"no-such-group" in err
          and b"GROUP_ID_NOT_FOUND" in err, "groups delete: one deleted, one unknown", out + err)
    rc, out, err = run(["groups", "list", "-b", bootstrap])
    check(rc == 0 and b"tool-group" not in out, "the deleted group is gone", out + err)


def main():
    test_usage()
    test_version()
    with run_broker.Broker(extra_args=["--set", "auto.create.topics.enable=false",
                                        "--set", "group.initial.rebalance.delay.ms=0"]) as b:
        bootstrap = b.bootstrap
        test_bad_config(bootstrap)
        test_topics_and_metadata(bootstrap)
        test_produce(bootstrap)
        test_topic_compression(bootstrap, b.data_dir)
        test_perf(bootstrap)
        test_groups(bootstrap)
        test_consume(bootstrap)
        test_commit_what_was_printed(bootstrap)
        test_interrupt(bootstrap)
    if failures:
        print(f"{len(failures)} check(s) failed: {failures}")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
