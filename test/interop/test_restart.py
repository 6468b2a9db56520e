#!/usr/bin/python3
"""broker-ref restarts under a live kafka-python producer (acks=1, retries=0).

A numbered stream goes to 2 partitions. In the middle the broker gets SIGTERM
and is restarted on the same data dir and port while requests are in flight;
the stream continues. Later the broker is killed with SIGKILL mid-stream and
restarted; the stream continues again. Then, and once more after a final clean
restart: every acknowledged record is readable exactly once, at the offset it
was acknowledged with, in order; offsets are contiguous; records that failed
(in flight at the crash) appear at most once; ListOffsets by timestamp
(offsets_for_times) answers correctly for timestamps before, at, between and
after records, on both sides of each restart.
Usage: BROKER_REF=build/broker-ref/broker-ref /usr/bin/python3 test_restart.py
"""
import time
from collections import Counter

import interop
from interop import KafkaConsumer, KafkaProducer, TopicPartition, check

TOPIC = "restart-stream"
PARTITIONS = 2
BASE_TS = 1_720_000_000_000
BURST = 1500  # records per stream phase; the restart happens in its middle


def ts_of(i):
    return BASE_TS + 10 * i  # gaps, so "between two records" timestamps exist


def new_producer(bs):
    return KafkaProducer(bootstrap_servers=bs, acks=1, retries=0, linger_ms=2, max_in_flight_requests_per_connection=5,
                         request_timeout_ms=10000, max_block_ms=30000, reconnect_backoff_ms=50,
                         reconnect_backoff_max_ms=500, client_id="kfk-interop-restart")


class Stream:
    def __init__(self, bs):
        self.prod = new_producer(bs)
        self.next = 0
        self.acked = {}    # i -> (partition, offset)
        self.failed = {}   # i -> (phase label, error text)
        self.marks = []    # (label, first i of the phase)
        self.pending_at_event = []  # (label, sends not yet answered when the broker went down)

    def send(self, i):
        return self.prod.send(TOPIC, key=f"k{i}".encode(), value=f"record {i}".encode(), partition=i % PARTITIONS,
                              headers=[("n", str(i).encode())], timestamp_ms=ts_of(i))

    def burst(self, label, count, event_at=None, event=None):
        """Sends count records asynchronously. Up to the event_at-th record they
        go out as fast as possible, so that requests are queued and in flight
        when event() (a restart) runs; after it they are paced, so the stream
        continues while the broker comes back."""
        self.marks.append((label, self.next))
        futs = []
        for k in range(count):
            futs.append((self.next, self.send(self.next)))
            self.next += 1
            if k == event_at:
                pending = sum(1 for _, f in futs if not f.is_done)
                event()
                self.pending_at_event.append((label, pending))
            if event_at is not None and k > event_at and k % 10 == 0:
                time.sleep(0.005)
        self.prod.flush(timeout=60)
        for i, fut in futs:
            try:
                md = fut.get(timeout=0)
                self.acked[i] = (md.partition, md.offset)
            except Exception as e:
                self.failed[i] = (label, f"{type(e).__name__}: {e}")

    def steady(self, label, count):
        """Sends count records one at a time; each must be acknowledged."""
        self.marks.append((label, self.next))
        for _ in range(count):
            i = self.next
            self.next += 1
            try:
                md = self.send(i).get(timeout=30)
            except Exception as e:
                raise interop.Failure(f"{label}: record {i} not acknowledged by a running broker: {type(e).__name__}: {e}")
            self.acked[i] = (md.partition, md.offset)


def verify(bs, s, label):
    got = interop.consume_all(bs, TOPIC, PARTITIONS, timeout=60)
    seen = {}
    for p in range(PARTITIONS):
        recs = got[p]
        offs = [r.offset for r in recs]
        check(offs == list(range(len(offs))),
              f"{label}: partition {p}: offsets not contiguous from 0: first gap after {first_gap(offs)}")
        prev = -1
        for r in recs:
            i = int(r.value.decode().split()[1])
            where = f"{label}: partition {p} offset {r.offset} (record {i})"
            check(i not in seen, f"{where}: duplicate, also at partition/offset {seen.get(i)}")
            check(i > prev, f"{where}: out of order, follows record {prev}")
            seen[i] = (p, r.offset)
            prev = i
            interop.compare_record(where, r, dict(key=f"k{i}".encode(), value=f"record {i}".encode(),
                                                  headers=[("n", str(i).encode())], timestamp=ts_of(i), partition=i % PARTITIONS))
    lost = [i for i in s.acked if i not in seen]
    check(not lost, f"{label}: {len(lost)} acknowledged records missing, first {lost[:10]} "
          f"(acknowledged at {[s.acked[i] for i in lost[:10]]})")
    moved = [(i, s.acked[i], seen[i]) for i in s.acked if seen[i] != s.acked[i]]
    check(not moved, f"{label}: records read at other offsets than acknowledged (record, acked, read): {moved[:10]}")
    unknown = [i for i in seen if i not in s.acked and i not in s.failed]
    check(not unknown, f"{label}: records never sent appear: {unknown[:10]}")
    print(f"ok: {label}: {len(s.acked)} acknowledged records exactly once in order")
    for phase, pending in s.pending_at_event:
        failed = [i for i, (ph, _) in s.failed.items() if ph == phase]
        errors = Counter(s.failed[i][1][:60] for i in failed).most_common(2)
        print(f"    {phase}: {pending} sends unanswered at the event; {len(failed)} failed "
              f"({sum(1 for i in failed if i in seen)} of those are in the log anyway) {errors or ''}")
    verify_times(bs, got, s, label)


def first_gap(offs):
    for a, b in zip(offs, offs[1:]):
        if b != a + 1:
            return f"{a} (next {b})"
    return f"start {offs[:1]}"


def verify_times(bs, got, s, label):
    """offsets_for_times: the first offset whose timestamp is >= the query."""
    c = KafkaConsumer(bootstrap_servers=bs, group_id=None, enable_auto_commit=False)
    try:
        queries = {BASE_TS - 1000, ts_of(s.next) + 5}
        for _, first in s.marks:  # around each phase boundary, i.e. each restart
            for i in (first - 1, first, first + 1, first + 7):
                if 0 <= i < s.next:
                    queries |= {ts_of(i), ts_of(i) + 5}
        for q in sorted(queries):
            tps = [TopicPartition(TOPIC, p) for p in range(PARTITIONS)]
            ans = c.offsets_for_times({tp: q for tp in tps})
            for tp in tps:
                want = next(((r.offset, r.timestamp) for r in got[tp.partition] if r.timestamp >= q), None)
                a = ans.get(tp)
                have = None if a is None else (a.offset, a.timestamp)
                check(have == want, f"{label}: offsets_for_times(partition {tp.partition}, {q} = BASE_TS+{q - BASE_TS}): "
                      f"got (offset, timestamp) {have}, expected {want}")
        print(f"ok: {label}: offsets_for_times right for {len(queries)} timestamps x {PARTITIONS} partitions")
    finally:
        c.close()


def body(broker):
    bs = broker.bootstrap
    interop.create_topic(bs, TOPIC, PARTITIONS)
    s = Stream(bs)
    try:
        s.steady("before any restart", 200)
        s.burst("SIGTERM mid-stream", BURST, event_at=BURST // 2, event=broker.restart)
        check(broker.bootstrap == bs, f"broker came back on {broker.bootstrap}, not {bs}")
        s.steady("after SIGTERM restart", 200)
        verify(bs, s, "after SIGTERM restart")

        def crash():
            broker.kill9()
            broker.start()
        s.burst("SIGKILL mid-stream", BURST, event_at=BURST // 2, event=crash)
        s.steady("after SIGKILL restart", 200)
    finally:
        s.prod.close(timeout=10)
    verify(bs, s, "after SIGKILL restart")
    broker.restart()
    verify(bs, s, "after a final clean restart")


if __name__ == "__main__":
    interop.run_test(body)
