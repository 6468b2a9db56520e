#!/usr/bin/python3
"""kafka-python consumer groups against broker-ref's group coordinator.

Two KafkaConsumers in one group split four partitions and read every record
exactly once; after committing, one leaves and the other takes over all
partitions, resuming at the committed offsets; after a broker restart a new
member of the group resumes after the last commit (offsets rebuilt from
__consumer_offsets). Run with /usr/bin/python3 (Debian's python3-kafka).
"""
import threading
import time

import interop
from interop import KafkaConsumer, KafkaProducer, TopicPartition, check

TOPIC = "kp-group"
GROUP = "kp-group-consumers"
PARTITIONS = 4


def produce(bs, start, count):
    p = KafkaProducer(bootstrap_servers=bs, client_id="kfk-interop-group-producer", linger_ms=5)
    try:
        for i in range(start, start + count):
            p.send(TOPIC, key=f"k{i}".encode(), value=f"v{i}".encode(), partition=i % PARTITIONS,
                   headers=[("i", str(i).encode())])
        p.flush(timeout=30)
    finally:
        p.close()


def consumer(bs, name):
    return KafkaConsumer(TOPIC, bootstrap_servers=bs, client_id=name, group_id=GROUP,
                         enable_auto_commit=False, auto_offset_reset="earliest",
                         session_timeout_ms=6000, heartbeat_interval_ms=500, fetch_max_wait_ms=100,
                         max_poll_interval_ms=15000)


def poll_until(consumers, done, what, timeout=30.0):
    """Polls every consumer, each on its own thread (kafka-python's poll()
    blocks while its member joins, and a rebalance needs every member to
    rejoin), until done(got) holds; returns {index: [records]}."""
    got = {i: [] for i in range(len(consumers))}
    lock = threading.Lock()
    stop = threading.Event()
    errors = []

    def run(i, c):
        try:
            while not stop.is_set():
                recs = [r for rs in c.poll(timeout_ms=100).values() for r in rs]
                with lock:
                    got[i].extend(recs)
        except Exception as e:  # reported by the main thread
            errors.append(e)
            stop.set()

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(consumers)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    try:
        while True:
            with lock:
                if done(got):
                    break
            if errors:
                raise errors[0]
            check(time.monotonic() < deadline, f"timed out waiting for {what}: "
                  f"records {[len(r) for r in got.values()]}")
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join()
    return got


def values(recs):
    return [r.value.decode() for r in recs]


def body(broker):
    bs = broker.bootstrap
    interop.create_topic(bs, TOPIC, PARTITIONS)
    c1, c2 = consumer(bs, "kp-member-1"), consumer(bs, "kp-member-2")
    try:
        # Join: both members get a share of the partitions.
        def settled(_):
            a1, a2 = c1.assignment(), c2.assignment()
            return a1 and a2 and len(a1) + len(a2) == PARTITIONS and not (a1 & a2)
        poll_until([c1, c2], settled, "both members assigned")
        print(f"ok: group split: member 1 {sorted(tp.partition for tp in c1.assignment())}, "
              f"member 2 {sorted(tp.partition for tp in c2.assignment())}")

        produce(bs, 0, 200)
        got = poll_until([c1, c2], lambda g: sum(map(len, g.values())) >= 200, "200 records")
        all_values = values(got[0]) + values(got[1])
        check(len(all_values) == 200 and set(all_values) == {f"v{i}" for i in range(200)},
              f"group read {len(all_values)} records ({len(set(all_values))} distinct), expected 200 once each")
        check(got[0] and got[1], "one member read nothing")
        for r in got[0] + got[1]:
            check(r.key.decode() == "k" + r.value.decode()[1:], f"key {r.key} with value {r.value}")
            check(r.headers == [("i", r.value.decode()[1:].encode())], f"headers {r.headers}")
        c1.commit()
        c2.commit()
        for c in (c1, c2):
            for tp in c.assignment():
                want = sum(1 for i in range(200) if i % PARTITIONS == tp.partition)
                check(c.committed(tp) == want, f"committed offset of {tp}: {c.committed(tp)}, expected {want}")
        print("ok: 200 records read exactly once across the group, offsets committed")

        # Member 2 leaves: member 1 is given every partition and resumes at the commits.
        c2.close()
        poll_until([c1], lambda _: len(c1.assignment()) == PARTITIONS, "member 1 to take over")
        produce(bs, 200, 100)
        got = poll_until([c1], lambda g: len(g[0]) >= 100, "100 more records")
        check(sorted(values(got[0])) == sorted(f"v{i}" for i in range(200, 300)),
              f"after the rebalance member 1 read {len(got[0])} records: {values(got[0])[:5]}...")
        c1.commit()
        print("ok: after member 2 left, member 1 took all partitions and read only the new records")
    finally:
        c1.close()
        c2.close()

    broker.restart()
    produce(broker.bootstrap, 300, 40)
    c3 = consumer(broker.bootstrap, "kp-member-3")
    try:
        got = poll_until([c3], lambda g: len(g[0]) >= 40, "records after the restart")
        extra = [r for recs in c3.poll(timeout_ms=500).values() for r in recs]  # nothing more
        got_values = values(got[0]) + values(extra)
        check(sorted(got_values) == sorted(f"v{i}" for i in range(300, 340)),
              f"after the restart the group resumed with {len(got_values)} records: {got_values[:5]}...")
        for p in range(PARTITIONS):
            check(c3.committed(TopicPartition(TOPIC, p)) == 75, f"committed offset of partition {p} after restart")
    finally:
        c3.close()
    print("ok: after a broker restart a new member resumed after the committed offsets")


if __name__ == "__main__":
    interop.run_test(body, ["--set", "group.initial.rebalance.delay.ms=300",
                            "--set", "offsets.topic.num.partitions=10"])
