'use strict'
// kafkajs consumer groups against broker-ref's group coordinator: two
// consumers of one group split four partitions and read every record once
// (keys, values, headers, timestamps checked); offsets are committed; when
// one consumer leaves, the other takes every partition and continues after
// the commits; a new consumer of the group later resumes after them too.
// Needs BOOTSTRAP=host:port; run through run_broker.py (see meson.build).
// Exit 0 pass, 1 fail.
const { makeKafka, produce } = require('./kjs_common')

const TOPIC = 'kjs-group-topic'
const GROUP = 'kjs-group'
const PARTITIONS = 4
const BASE_TS = 1700000000000

class Failure extends Error {}
function check (cond, msg) { if (!cond) throw new Failure(msg) }
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function waitFor (what, cond, timeoutMs = 30000) {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    check(Date.now() < end, `timed out waiting for ${what}`)
    await sleep(50)
  }
}

function messages (from, count) {
  const out = []
  for (let i = from; i < from + count; i++) {
    out.push({ partition: i % PARTITIONS, key: `k${i}`, value: `v${i}`, headers: { i: String(i) }, timestamp: BASE_TS + i })
  }
  return out
}

// A group member recording what it reads and its latest assignment.
async function member (kafka, name) {
  const consumer = kafka.consumer({
    groupId: GROUP, sessionTimeout: 10000, rebalanceTimeout: 10000, heartbeatInterval: 500, maxWaitTimeInMs: 100
  })
  const m = { name, consumer, records: [], assignment: [] }
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    m.assignment = (e.payload.memberAssignment[TOPIC] || []).slice().sort()
  })
  await consumer.connect()
  await consumer.subscribe({ topics: [TOPIC], fromBeginning: true })
  await consumer.run({
    autoCommit: true,
    autoCommitThreshold: 1, // commit after every message
    eachMessage: async ({ partition, message }) => {
      const headers = {}
      for (const [k, v] of Object.entries(message.headers || {})) headers[k] = v.toString()
      m.records.push({
        partition,
        offset: Number(message.offset),
        key: message.key.toString(),
        value: message.value.toString(),
        headers,
        timestamp: Number(message.timestamp)
      })
    }
  })
  return m
}

function checkRecords (got, want, label) {
  const byValue = new Map(got.map((r) => [r.value, r]))
  check(got.length === want.length, `${label}: read ${got.length} records, expected ${want.length}`)
  check(byValue.size === want.length, `${label}: ${got.length - byValue.size} records read twice`)
  for (const w of want) {
    const g = byValue.get(w.value)
    check(g, `${label}: record ${w.value} was not read`)
    for (const f of ['partition', 'key', 'headers', 'timestamp']) {
      check(JSON.stringify(g[f]) === JSON.stringify(w[f]), `${label}: ${w.value}: ${f} is ${JSON.stringify(g[f])}, expected ${JSON.stringify(w[f])}`)
    }
  }
}

async function committed (admin) {
  const res = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] })
  const out = {}
  for (const p of res[0].partitions) out[p.partition] = Number(p.offset)
  return out
}

async function run (bootstrap) {
  const kafka = makeKafka(bootstrap, 'kfk-interop-kafkajs-group')
  const admin = kafka.admin()
  await admin.connect()
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  const members = []
  try {
    check(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true }),
      `createTopics(${TOPIC}) returned false`)
    const a = await member(kafka, 'a')
    const b = await member(kafka, 'b')
    members.push(a, b)
    await waitFor('both members assigned', () => a.assignment.length > 0 && b.assignment.length > 0 &&
      a.assignment.length + b.assignment.length === PARTITIONS)
    check(!a.assignment.some((p) => b.assignment.includes(p)), `overlapping assignments ${a.assignment} / ${b.assignment}`)
    console.log(`ok: group split: a ${JSON.stringify(a.assignment)}, b ${JSON.stringify(b.assignment)}`)

    const first = messages(0, 200)
    await produce(producer, TOPIC, 'none', first.slice(0, 100))
    await produce(producer, TOPIC, 'gzip', first.slice(100))
    await waitFor('200 records', () => a.records.length + b.records.length >= 200)
    await sleep(300)
    checkRecords(a.records.concat(b.records), first, 'two members')
    check(a.records.length > 0 && b.records.length > 0, 'one member read nothing')
    let offs = {}
    const end = Date.now() + 10000
    do { offs = await committed(admin); await sleep(100) } while (Object.values(offs).reduce((x, y) => x + Math.max(y, 0), 0) < 200 && Date.now() < end)
    for (let p = 0; p < PARTITIONS; p++) check(offs[p] === 50, `committed offset of partition ${p}: ${offs[p]}, expected 50`)
    console.log('ok: 200 records (none, gzip) read exactly once across the group, offsets committed')

    // b leaves: a takes over every partition and continues after the commits.
    await b.consumer.disconnect()
    members.pop()
    await waitFor('a to take every partition', () => a.assignment.length === PARTITIONS)
    a.records = []
    const second = messages(200, 100)
    await produce(producer, TOPIC, 'gzip', second)
    await waitFor('100 more records', () => a.records.length >= 100)
    await sleep(300)
    checkRecords(a.records, second, 'after b left')
    console.log('ok: after b left, a took all partitions and read only the new records')
    await a.consumer.disconnect()
    members.pop()

    // A new member resumes after the committed offsets.
    const third = messages(300, 40)
    await produce(producer, TOPIC, 'none', third)
    const c = await member(kafka, 'c')
    members.push(c)
    await waitFor('40 records after the commits', () => c.records.length >= 40)
    await sleep(500)
    checkRecords(c.records, third, 'new member')
    console.log('ok: a new member resumed after the committed offsets')
    const groups = await admin.describeGroups([GROUP])
    check(groups.groups[0].state === 'Stable' && groups.groups[0].members.length === 1,
      `describeGroups: ${JSON.stringify(groups.groups[0]).slice(0, 200)}`)
  } finally {
    for (const m of members) await m.consumer.disconnect().catch(() => {})
    await producer.disconnect()
    await admin.disconnect()
  }
  return 0
}

const bootstrap = process.env.BOOTSTRAP
if (!bootstrap) {
  console.error('FAIL test_kafkajs_group.js: BOOTSTRAP not set (run through run_broker.py)')
  process.exit(1)
}
run(bootstrap).then((rc) => {
  if (rc === 0) console.log('PASS test_kafkajs_group.js')
  process.exit(rc)
}, (e) => {
  console.log(`FAIL test_kafkajs_group.js: ${e instanceof Failure ? e.message : e.stack || e}`)
  process.exit(1)
})
