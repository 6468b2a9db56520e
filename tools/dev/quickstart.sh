#!/usr/bin/env bash
# The main job: build, start broker-ref (as its own process) on a temporary
# data directory and a free loopback port, produce a stream of records with
# kfk's producer and consume it back with kfk's consumer (examples/quickstart.cc),
# show the topic with the kfk tool, and print what happened.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/dev/install_deps.sh
[[ -d build ]] || meson setup build >/dev/null
ninja -C build broker-ref/broker-ref examples/quickstart tools/kfk/kfk >/dev/null

data=$(mktemp -d /tmp/kfk-quickstart.XXXXXX)
out=$(mktemp)
./build/broker-ref/broker-ref --data-dir "$data" --listen 127.0.0.1:0 --set num.partitions=3 >"$out" 2>"$data.log" &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data" "$data.log" "$out"; }
trap cleanup EXIT
for _ in $(seq 100); do grep -q listening "$out" && break; sleep 0.1; done
addr=$(sed -n 's/^broker-ref listening on //p' "$out")
[[ -n "$addr" ]] || { echo "broker-ref did not start:"; cat "$data.log"; exit 1; }
echo "broker-ref listening on $addr (data in $data)"

./build/examples/quickstart "$addr" "${KFK_QUICKSTART_RECORDS:-100000}"
echo
./build/tools/kfk/kfk -L -b "$addr" -t quickstart-orders
