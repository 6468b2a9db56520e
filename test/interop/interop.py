"""Shared helpers for the kafka-python based interop tests (run with /usr/bin/python3)."""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_broker  # noqa: E402

SKIP = run_broker.SKIP
HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import kafka
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic
    from kafka.errors import IncompatibleBrokerVersion, TopicAlreadyExistsError
except ImportError as e:  # install_deps.sh installs python3-kafka; outside CI, skip
    print(f"SKIP: kafka-python is not importable by {sys.executable}: {e}")
    sys.exit(SKIP)


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def require_tool(env_name, default):
    """Path of a command-line tool (from $env_name or PATH), or skip the test."""
    path = os.environ.get(env_name) or shutil.which(default)
    if not path:
        print(f"SKIP: {default} not found (set {env_name} or install it: tools/dev/install_deps.sh)")
        sys.exit(SKIP)
    return path


def run_test(body, extra_args=None):
    """Runs body(broker) against a fresh broker-ref; prints PASS/FAIL, exits 0/1.
    extra_args: broker-ref arguments (e.g. ["--set", "key=value"]) added to
    $BROKER_REF_ARGS."""
    name = os.path.basename(sys.argv[0])
    run_broker.exit_on_sigterm()
    try:
        args = os.environ.get("BROKER_REF_ARGS", "").split() + list(extra_args or [])
        broker = run_broker.Broker(sys.argv[1] if len(sys.argv) > 1 else None, extra_args=args)
    except run_broker.BrokerError as e:
        print(f"FAIL {name}: {e}")
        sys.exit(1)
    try:
        with broker:
            body(broker)
    except (Failure, run_broker.BrokerError) as e:
        print(f"FAIL {name}: {e}")
        sys.exit(1)
    except Exception as e:
        import traceback
        traceback.print_exc()
        print(f"FAIL {name}: unexpected {type(e).__name__}: {e}")
        sys.exit(1)
    print(f"PASS {name}")


def create_topic(bootstrap, topic, partitions):
    """CreateTopics through kafka-python's admin client, then waits until the
    topic's metadata shows all partitions. With KFK_INTEROP_NO_CREATETOPICS=1
    (librdkafka's mock stand-in, which lacks CreateTopics) a topic that already
    exists is accepted instead."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kfk-interop-admin")
    try:
        resp = admin.create_topics([NewTopic(topic, partitions, 1)], timeout_ms=10000)
        errs = [(t, code) for t, code, *_ in resp.topic_errors if code != 0]
        check(not errs, f"CreateTopics({topic}, {partitions} partitions) returned errors {errs}")
    except IncompatibleBrokerVersion:
        if os.environ.get("KFK_INTEROP_NO_CREATETOPICS") != "1":
            raise Failure("broker does not advertise CreateTopics in ApiVersions")
    except TopicAlreadyExistsError:
        if os.environ.get("KFK_INTEROP_NO_CREATETOPICS") != "1":
            raise
    finally:
        admin.close()
    wait_for_partitions(bootstrap, topic, partitions)


def wait_for_partitions(bootstrap, topic, partitions, timeout=20.0):
    c = KafkaConsumer(bootstrap_servers=bootstrap, client_id="kfk-interop-meta")
    try:
        deadline = time.monotonic() + timeout
        got = None
        while time.monotonic() < deadline:
            got = c.partitions_for_topic(topic)
            if got == set(range(partitions)):
                return
            time.sleep(0.2)
            c._client.cluster.request_update()
        raise Failure(f"metadata for {topic!r}: partitions {sorted(got) if got else got}, expected 0..{partitions - 1}")
    finally:
        c.close()


def consume_all(bootstrap, topic, partitions, timeout=30.0, **cfg):
    """Reads every partition from the beginning to its high watermark by manual
    assignment (no group). Returns {partition: [ConsumerRecord, ...]}."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, client_id="kfk-interop-reader", group_id=None,
                      enable_auto_commit=False, **cfg)
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        end = c.end_offsets(tps)
        out = {p: [] for p in range(partitions)}
        deadline = time.monotonic() + timeout
        while any(c.position(tp) < end[tp] for tp in tps):
            check(time.monotonic() < deadline,
                  f"timed out reading {topic}: positions {[c.position(tp) for tp in tps]}, high watermarks {[end[tp] for tp in tps]}")
            for tp, recs in c.poll(timeout_ms=500).items():
                out[tp.partition].extend(recs)
        return out
    finally:
        c.close()


def headers_list(hs):
    return [(k, bytes(v) if v is not None else None) for k, v in (hs or [])]


def compare_record(where, got, want):
    """want: dict with any of key, value, headers, timestamp, partition, offset."""
    diffs = []
    for field, w in want.items():
        g = getattr(got, field)
        if field == "headers":
            g = headers_list(g)
            w = headers_list(w)
        if g != w:
            diffs.append(f"{field}: got {short(g)}, expected {short(w)}")
    check(not diffs, f"{where}: " + "; ".join(diffs))


def short(v, n=80):
    r = repr(v)
    return r if len(r) <= n else r[:n] + f"... ({len(v) if hasattr(v, '__len__') else '?'} long)"


if __name__ == "__main__":
    # For the shell tests: interop.py create-topic BOOTSTRAP TOPIC PARTITIONS
    if len(sys.argv) == 5 and sys.argv[1] == "create-topic":
        try:
            create_topic(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        except Exception as e:
            print(f"FAIL: create-topic {sys.argv[3]}: {type(e).__name__}: {e}")
            sys.exit(1)
    else:
        print("usage: interop.py create-topic BOOTSTRAP TOPIC PARTITIONS", file=sys.stderr)
        sys.exit(2)
