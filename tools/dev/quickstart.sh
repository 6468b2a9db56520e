#!/usr/bin/env bash
# The main job: build, start broker-ref on a temporary data directory and a
# free loopback port, produce a stream of records and consume it back, and
# print what happened.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/dev/install_deps.sh
[[ -d build ]] || meson setup build >/dev/null
ninja -C build broker-ref/broker-ref >/dev/null

data=$(mktemp -d /tmp/kfk-quickstart.XXXXXX)
out=$(mktemp)
./build/broker-ref/broker-ref --data-dir "$data" --listen 127.0.0.1:0 >"$out" 2>"$data.log" &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data" "$data.log" "$out"; }
trap cleanup EXIT
for _ in $(seq 100); do grep -q listening "$out" && break; sleep 0.1; done
addr=$(sed -n 's/^broker-ref listening on //p' "$out")
[[ -n "$addr" ]] || { echo "broker-ref did not start:"; cat "$data.log"; exit 1; }
echo "broker-ref listening on $addr (data in $data)"

n=${KFK_QUICKSTART_RECORDS:-10000}
topic=quickstart
# The stream goes through kcat (librdkafka) until kfk's own producer and
# consumer land.
start=$(date +%s.%N)
seq 1 "$n" | awk '{print "key-" $1 ":order-" $1}' | kcat -P -b "$addr" -t "$topic" -K: -z lz4
mid=$(date +%s.%N)
got=$(kcat -C -b "$addr" -t "$topic" -o beginning -e -q -f '%k\n' | grep -c '^key-' || true)
end=$(date +%s.%N)
kcat -L -b "$addr" -t "$topic" | sed -n '1,6p'
awk -v n="$n" -v got="$got" -v a="$start" -v b="$mid" -v c="$end" \
  'BEGIN { printf "produced %d keyed records (lz4) in %.2fs, consumed %d back in %.2fs\n", n, b - a, got, c - b }'
[[ "$got" -ge "$n" ]] && echo "OK: every record came back" || { echo "MISSING records"; exit 1; }
