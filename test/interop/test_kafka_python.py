#!/usr/bin/python3
"""kafka-python (Debian's python3-kafka) against broker-ref.

Creates a 3-partition topic with the admin client, produces with every codec
kafka-python has (none gzip snappy lz4 zstd) with keys, null keys/values,
headers and explicit timestamps to explicit partitions, then reads everything
back by manual assignment and compares field by field, including offsets.
Usage: BROKER_REF=build/broker-ref/broker-ref /usr/bin/python3 test_kafka_python.py
"""
import interop
from interop import KafkaConsumer, KafkaProducer, TopicPartition, check, compare_record, kafka

TOPIC = "kp-codecs"
PARTITIONS = 3
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
PER_CODEC = 7
BASE_TS = 1_700_000_000_000


def make_record(codec, ci, i):
    """The i-th record produced with codec: varied keys, values and headers."""
    key = f"{codec}-k{i}".encode()
    value = (f"{codec} value {i} " * (1 + 40 * i)).encode()  # up to a few KB, compressible
    headers = [("codec", codec.encode()), ("i", str(i).encode())]
    if i == 2:
        headers.append(("empty", b""))
    if i == 3:
        headers = []
    if i == 4:
        value = b""
    if i == 5:
        key = None
    if i == 6:
        value = None  # tombstone
    return dict(key=key, value=value, headers=headers, timestamp=BASE_TS + 1000 * ci + i,
                partition=(ci + i) % PARTITIONS)


def codec_available(codec):
    have = {"none": lambda: True, "gzip": kafka.codec.has_gzip, "snappy": kafka.codec.has_snappy,
            "lz4": kafka.codec.has_lz4, "zstd": kafka.codec.has_zstd}[codec]
    return have()


def produce_all(bootstrap, producer_cfg, codecs, label):
    """Produces PER_CODEC records per codec; returns {(partition, offset): expected}."""
    expected = {}
    for ci, codec in enumerate(codecs):
        check(codec_available(codec),
              f"kafka-python {kafka.__version__} cannot use {codec}: its Python module is missing "
              "(python3-lz4 / python3-snappy / python3-zstandard; run tools/dev/install_deps.sh)")
        p = KafkaProducer(bootstrap_servers=bootstrap, client_id=f"kp-{label}-{codec}",
                          compression_type=None if codec == "none" else codec,
                          acks="all", linger_ms=20, **producer_cfg)
        try:
            sent = []
            for i in range(PER_CODEC):
                r = make_record(codec, ci, i)
                fut = p.send(TOPIC, key=r["key"], value=r["value"], headers=r["headers"],
                             partition=r["partition"], timestamp_ms=r["timestamp"])
                sent.append((r, fut))
            p.flush(timeout=30)
            for i, (r, fut) in enumerate(sent):
                try:
                    md = fut.get(timeout=30)
                except Exception as e:
                    raise interop.Failure(f"{label}: produce {codec} record {i} to partition {r['partition']} failed: {e!r}")
                check(md.topic == TOPIC and md.partition == r["partition"],
                      f"{label}: {codec} record {i} acknowledged for {md.topic}/{md.partition}, sent to {TOPIC}/{r['partition']}")
                check((md.partition, md.offset) not in expected,
                      f"{label}: {codec} record {i} acknowledged at {md.partition}/{md.offset}, already used by another record")
                r = dict(r, offset=md.offset, codec=codec, i=i)
                expected[(md.partition, md.offset)] = r
        finally:
            p.close()
    return expected


def verify(bootstrap, expected, label):
    got = interop.consume_all(bootstrap, TOPIC, PARTITIONS)
    for p in range(PARTITIONS):
        want_offsets = sorted(o for (pp, o) in expected if pp == p)
        got_offsets = [r.offset for r in got[p]]
        check(got_offsets == want_offsets,
              f"{label}: partition {p}: read offsets {got_offsets}, expected {want_offsets} (acknowledged offsets)")
        check(want_offsets == list(range(len(want_offsets))),
              f"{label}: partition {p}: acknowledged offsets {want_offsets} are not 0..{len(want_offsets) - 1}")
        for rec in got[p]:
            w = expected[(p, rec.offset)]
            where = f"{label}: partition {p} offset {rec.offset} ({w['codec']} record {w['i']})"
            compare_record(where, rec, {k: w[k] for k in ("key", "value", "headers", "timestamp", "partition", "offset")})
            check(rec.topic == TOPIC, f"{where}: topic {rec.topic!r}")
            check(rec.timestamp_type == 0, f"{where}: timestamp_type {rec.timestamp_type}, expected 0 (CreateTime)")
    return got


def verify_seek(bootstrap, expected):
    """Seeking into the middle of a (compressed) batch returns exactly that offset first."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        for p in range(PARTITIONS):
            tp = TopicPartition(TOPIC, p)
            c.assign([tp])
            check(c.beginning_offsets([tp])[tp] == 0, f"partition {p}: beginning offset {c.beginning_offsets([tp])[tp]}, expected 0")
            n = sum(1 for (pp, _) in expected if pp == p)
            check(c.end_offsets([tp])[tp] == n, f"partition {p}: end offset {c.end_offsets([tp])[tp]}, expected {n}")
            mid = n // 2 + 1
            c.seek(tp, mid)
            recs = []
            for _ in range(20):
                recs = c.poll(timeout_ms=500, max_records=1).get(tp, [])
                if recs:
                    break
            check(recs, f"partition {p}: nothing read after seek({mid})")
            check(recs[0].offset == mid, f"partition {p}: after seek({mid}) first record has offset {recs[0].offset}")
            check(recs[0].value == expected[(p, mid)]["value"], f"partition {p}: after seek({mid}) value differs")
    finally:
        c.close()


def body(broker):
    bs = broker.bootstrap
    interop.create_topic(bs, TOPIC, PARTITIONS)
    expected = produce_all(bs, {}, CODECS, "codecs")
    verify(bs, expected, "codecs")
    verify_seek(bs, expected)
    print(f"ok: {len(expected)} records with codecs {' '.join(CODECS)} read back identically")

    if "enable_idempotence" in KafkaProducer.DEFAULT_CONFIG:
        more = produce_all(bs, {"enable_idempotence": True}, ["none", "gzip"], "idempotent")
        check(not set(more) & set(expected), "idempotent producer reused offsets")
        expected.update(more)
        verify(bs, expected, "idempotent")
        print(f"ok: idempotent producer, {len(more)} records")
    else:
        print(f"NOTE: kafka-python {kafka.__version__} has no idempotent producer "
              "(enable_idempotence arrived in 2.1): not tested here, see test_kcat.sh and test_kafkajs.js")


if __name__ == "__main__":
    interop.run_test(body)
