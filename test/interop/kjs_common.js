'use strict'
// Helpers shared by the kafkajs interop tests, and a small command-line tool
// that test_cross_client.py drives:
//   node kjs_common.js produce BOOTSTRAP TOPIC < messages.json   (prints the acks as JSON)
//   node kjs_common.js consume BOOTSTRAP TOPIC COUNT              (prints the records as JSON)
//   node kjs_common.js has-groups BOOTSTRAP                       (exit 0 yes, 77 no)
// JSON messages: {partition, key, value, headers: {k: v}, timestamp}, strings or null;
// produce takes {"compression": "none"|"gzip", "messages": [...]}.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
const net = require('net')
const { Kafka, logLevel, CompressionTypes } = require('kafkajs')

const SKIP = 77
// FindCoordinator, JoinGroup, Heartbeat, LeaveGroup, SyncGroup, OffsetCommit, OffsetFetch
const GROUP_APIS = { 10: 'FindCoordinator', 11: 'JoinGroup', 12: 'Heartbeat', 13: 'LeaveGroup', 14: 'SyncGroup', 8: 'OffsetCommit', 9: 'OffsetFetch' }

function makeKafka (bootstrap, clientId) {
  return new Kafka({
    clientId,
    brokers: [bootstrap],
    logLevel: logLevel.WARN,
    retry: { retries: 5, initialRetryTime: 200 },
    connectionTimeout: 5000,
    requestTimeout: 15000
  })
}

// ApiVersions v0 over a raw socket: Map(apiKey -> [min, max]).
function apiVersions (bootstrap) {
  const [host, port] = splitHostPort(bootstrap)
  const clientId = Buffer.from('kfk-interop-probe')
  const req = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length)
  let o = req.writeInt32BE(req.length - 4, 0)
  o = req.writeInt16BE(18, o); o = req.writeInt16BE(0, o); o = req.writeInt32BE(7, o)
  o = req.writeInt16BE(clientId.length, o); clientId.copy(req, o)
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, host, () => sock.write(req))
    let buf = Buffer.alloc(0)
    sock.setTimeout(10000, () => { sock.destroy(); reject(new Error('ApiVersions probe timed out')) })
    sock.on('error', reject)
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return
      sock.destroy()
      const err = buf.readInt16BE(8)
      if (err !== 0) return reject(new Error(`ApiVersions error code ${err}`))
      const n = buf.readInt32BE(10)
      const m = new Map()
      for (let i = 0, p = 14; i < n; i++, p += 6) m.set(buf.readInt16BE(p), [buf.readInt16BE(p + 2), buf.readInt16BE(p + 4)])
      resolve(m)
    })
  })
}

function splitHostPort (hp) {
  const i = hp.lastIndexOf(':')
  return [hp.slice(0, i).replace(/^\[|\]$/g, ''), Number(hp.slice(i + 1))]
}

// Names of the group APIs the broker lacks ([] = it has them all).
async function missingGroupApis (bootstrap) {
  const v = await apiVersions(bootstrap)
  return Object.entries(GROUP_APIS).filter(([k]) => !v.has(Number(k))).map(([, name]) => name)
}

// Reads `count` records of `topic` from the beginning through a fresh consumer group.
async function consumeAll (kafka, topic, count, timeoutMs = 60000) {
  const groupId = `kfk-interop-${process.pid}-${Date.now()}`
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 1000, maxWaitTimeInMs: 200 })
  const out = []
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kafkajs consumer read ${out.length} of ${count} records of ${topic} in ${timeoutMs} ms`)), timeoutMs)
      consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          out.push(recordJson(partition, message))
          if (out.length >= count) { clearTimeout(timer); resolve() }
        }
      }).catch(reject)
    })
  } finally {
    await consumer.disconnect()
  }
  out.sort((a, b) => a.partition - b.partition || a.offset - b.offset)
  return out
}

function recordJson (partition, m) {
  const headers = {}
  for (const [k, v] of Object.entries(m.headers || {})) headers[k] = v === null || v === undefined ? null : v.toString()
  return {
    partition,
    offset: Number(m.offset),
    key: m.key === null ? null : m.key.toString(),
    value: m.value === null ? null : m.value.toString(),
    headers,
    timestamp: Number(m.timestamp)
  }
}

const CODECS = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP }

// Produces [{partition, key, value, headers, timestamp}] in one request per call;
// returns the messages with their acknowledged offsets.
async function produce (producer, topic, compression, messages) {
  const acks = await producer.send({
    topic,
    compression: CODECS[compression],
    messages: messages.map((m) => ({
      partition: m.partition,
      key: m.key,
      value: m.value,
      headers: m.headers,
      timestamp: String(m.timestamp)
    }))
  })
  const next = new Map(acks.map((a) => {
    if (a.errorCode !== 0) throw new Error(`produce to ${topic}/${a.partition}: error code ${a.errorCode}`)
    return [a.partition, Number(a.baseOffset)]
  }))
  return messages.map((m) => {
    if (!next.has(m.partition)) throw new Error(`no acknowledgement for partition ${m.partition} in ${JSON.stringify(acks)}`)
    const offset = next.get(m.partition)
    next.set(m.partition, offset + 1)
    return { ...m, offset }
  })
}

async function readStdin () {
  const chunks = []
  for await (const c of process.stdin) chunks.push(c)
  return Buffer.concat(chunks).toString()
}

async function main ([cmd, bootstrap, topic, count]) {
  if (cmd === 'has-groups') {
    const missing = await missingGroupApis(bootstrap)
    if (missing.length) { console.log(`broker lacks ${missing.join(', ')}`); return SKIP }
    return 0
  }
  const kafka = makeKafka(bootstrap, `kfk-interop-kjs-${cmd}`)
  if (cmd === 'produce') {
    const { compression, messages } = JSON.parse(await readStdin())
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    try {
      console.log(JSON.stringify(await produce(producer, topic, compression, messages)))
    } finally {
      await producer.disconnect()
    }
    return 0
  }
  if (cmd === 'consume') {
    console.log(JSON.stringify(await consumeAll(kafka, topic, Number(count))))
    return 0
  }
  console.error('usage: node kjs_common.js produce|consume|has-groups BOOTSTRAP [TOPIC [COUNT]]')
  return 2
}

module.exports = { SKIP, makeKafka, apiVersions, missingGroupApis, consumeAll, produce }

if (require.main === module) {
  main(process.argv.slice(2)).then((rc) => process.exit(rc), (e) => {
    console.error(`FAIL kjs_common.js ${process.argv[2]}: ${e.stack || e}`)
    process.exit(1)
  })
}
