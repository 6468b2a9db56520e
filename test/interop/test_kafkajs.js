'use strict'
// kafkajs (pinned in package.json) against broker-ref: admin createTopics and
// metadata, an idempotent producer (maxInFlightRequests 1) with keys, headers
// and explicit timestamps, uncompressed and gzip, to explicit partitions; then
// fetchTopicOffsets and reading everything back (both codecs) through a
// consumer group, comparing keys, values, headers and timestamps. kafkajs supports only gzip natively (snappy,
// lz4 and zstd need codec plugins), so those are not tested here.
// Needs BOOTSTRAP=host:port; run through run_broker.py (see meson.build).
// Exit 0 pass, 1 fail. test_kafkajs_group.js covers rebalancing and commits.
const { makeKafka, missingGroupApis, consumeAll, produce } = require('./kjs_common')

const TOPIC = 'kjs-topic'
const PARTITIONS = 3
const BASE_TS = 1700000000000

class Failure extends Error {}
function check (cond, msg) { if (!cond) throw new Failure(msg) }
const show = (v) => JSON.stringify(v)

function messagesFor (codec, round) {
  const out = []
  for (let i = 0; i < 9; i++) {
    out.push({
      partition: i % PARTITIONS,
      key: i === 4 ? null : `${codec}-${round}-k${i}`,
      value: i === 5 ? '' : `${codec} round ${round} value ${i} `.repeat(1 + 30 * i),
      headers: i === 3 ? {} : { codec, i: String(i), round: String(round) },
      timestamp: BASE_TS + 10000 * round + 100 * (codec === 'gzip' ? 1 : 0) + i
    })
  }
  return out
}

async function createTopic (admin) {
  try {
    const created = await admin.createTopics({
      topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1 }],
      waitForLeaders: true,
      timeout: 10000
    })
    check(created, `createTopics(${TOPIC}) returned false: topic already existed`)
  } catch (e) {
    if (e instanceof Failure || process.env.KFK_INTEROP_NO_CREATETOPICS !== '1') throw e
    console.log(`note: createTopics failed (${e.message}); KFK_INTEROP_NO_CREATETOPICS=1, using the existing topic`)
  }
  const md = await admin.fetchTopicMetadata({ topics: [TOPIC] })
  const parts = md.topics[0].partitions.map((p) => p.partitionId).sort()
  check(show(parts) === show([0, 1, 2]), `metadata for ${TOPIC}: partitions ${show(parts)}, expected [0,1,2]`)
  for (const p of md.topics[0].partitions) check(p.leader >= 0, `partition ${p.partitionId} has no leader: ${show(p)}`)
}

async function run (bootstrap) {
  const kafka = makeKafka(bootstrap, 'kfk-interop-kafkajs')
  const admin = kafka.admin()
  await admin.connect()
  const expected = []
  try {
    const cluster = await admin.describeCluster()
    check(cluster.brokers.length >= 1, `describeCluster: no brokers: ${show(cluster)}`)
    await createTopic(admin)

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    try {
      for (let round = 0; round < 2; round++) {
        for (const codec of ['none', 'gzip']) {
          const acked = await produce(producer, TOPIC, codec, messagesFor(codec, round))
          expected.push(...acked)
        }
      }
    } finally {
      await producer.disconnect()
    }
    console.log(`ok: idempotent producer wrote ${expected.length} records (none, gzip); snappy/lz4/zstd need kafkajs codec plugins: not tested`)

    for (let p = 0; p < PARTITIONS; p++) {
      const offs = expected.filter((m) => m.partition === p).map((m) => m.offset)
      check(show(offs) === show([...offs.keys()]), `partition ${p}: acknowledged offsets ${show(offs)}, expected 0..${offs.length - 1}`)
    }
    const offsets = await admin.fetchTopicOffsets(TOPIC)
    for (const o of offsets) {
      const n = expected.filter((m) => m.partition === o.partition).length
      check(Number(o.high) === n && Number(o.low) === 0,
        `fetchTopicOffsets partition ${o.partition}: low ${o.low} high ${o.high}, expected low 0 high ${n}`)
    }
    check(offsets.length === PARTITIONS, `fetchTopicOffsets returned ${offsets.length} partitions`)
    console.log('ok: fetchTopicOffsets matches')
  } finally {
    await admin.disconnect()
  }

  // kafkajs consumers always use a group: the broker must be a coordinator.
  const missing = await missingGroupApis(bootstrap)
  check(!missing.length, `broker lacks the group APIs ${missing.join(', ')}: kafkajs cannot consume`)
  const got = await consumeAll(kafka, TOPIC, expected.length)
  const want = expected.map((m) => ({ ...m, headers: m.headers })).sort((a, b) => a.partition - b.partition || a.offset - b.offset)
  check(got.length === want.length, `consumer read ${got.length} records, expected ${want.length}`)
  for (let i = 0; i < want.length; i++) {
    const w = want[i]; const g = got[i]
    for (const f of ['partition', 'offset', 'key', 'value', 'headers', 'timestamp']) {
      check(show(g[f]) === show(w[f]),
        `record ${w.partition}/${w.offset}: ${f} is ${show(g[f]).slice(0, 120)}, expected ${show(w[f]).slice(0, 120)}`)
    }
  }
  console.log(`ok: consumer group read all ${got.length} records identically`)
  return 0
}

const bootstrap = process.env.BOOTSTRAP
if (!bootstrap) {
  console.error('FAIL test_kafkajs.js: BOOTSTRAP not set (run through run_broker.py)')
  process.exit(1)
}
run(bootstrap).then((rc) => {
  if (rc === 0) console.log('PASS test_kafkajs.js')
  process.exit(rc)
}, (e) => {
  console.log(`FAIL test_kafkajs.js: ${e instanceof Failure ? e.message : e.stack || e}`)
  process.exit(1)
})
