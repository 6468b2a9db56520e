#!/usr/bin/env bash
# kcat (librdkafka) against broker-ref: metadata (-L), producing with keys,
# headers, NULL values and every codec (none gzip snappy lz4 zstd) to explicit
# partitions, reading back with -C -e -f and comparing every field, the
# idempotent producer, and ListOffsets by timestamp (-Q).
# Needs BOOTSTRAP=host:port: run through run_broker.py (see meson.build).
# Exit 0 pass, 1 fail, 77 skip (kcat missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${BOOTSTRAP:?BOOTSTRAP not set: run through run_broker.py}"
KCAT=${KCAT:-kcat}
PY=${PYTHON3:-/usr/bin/python3}
command -v "$KCAT" >/dev/null || { echo "SKIP: kcat not found (tools/dev/install_deps.sh installs it)"; exit 77; }

T=kcat-topic
FMT='%k|%s|%h|%T|%p|%o\n'
CODECS=(none gzip snappy lz4 zstd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL test_kcat.sh: $*"; exit 1; }
kc() { "$KCAT" -b "$BOOTSTRAP" -m 15 -q "$@"; }
now_ms() { date +%s%3N; }

# compare LABEL EXPECTED GOT: lines are key|value|headers|ts|partition|offset;
# the expected ts field is a range LO-HI (kcat stamps CreateTime itself).
compare() {
  awk -F'|' -v label="$1" '
    NR == FNR { want[++n] = $0; next }
    {
      ++m
      if (m > n) { printf "%s: extra record #%d: %s\n", label, m, $0; bad = 1; exit }
      split(want[m], w, "|"); split(w[4], ts, "-")
      ok = NF == 6 && w[1] == $1 && w[2] == $2 && w[3] == $3 && $4 + 0 >= ts[1] && $4 + 0 <= ts[2] && w[5] == $5 && w[6] == $6
      if (!ok) { printf "%s: record #%d differs\n  got      %s\n  expected %s\n", label, m, $0, want[m]; bad = 1; exit }
    }
    END {
      if (!bad && m < n) { printf "%s: read %d records, expected %d; first missing: %s\n", label, m, n, want[m + 1]; bad = 1 }
      exit bad
    }' "$2" "$3" || fail "$1: differs (see above)"
}

declare -a next_offset=(0 0 0)
# produce LABEL PARTITION CODEC [extra kcat args]: 6 records, one with a NULL value.
produce() {
  local label=$1 p=$2 z=$3; shift 3
  local in="$tmp/in.$label" lo hi n
  : >"$in"
  for n in 0 1 2 3 4 5; do
    if ((n == 4)); then printf 'key-%s-%d:\n' "$label" "$n"; else
      printf 'key-%s-%d:%s value %d %s\n' "$label" "$n" "$label" "$n" "$(printf 'x%.0s' $(seq $((n * 40))))"; fi
  done >"$in"
  lo=$(now_ms)
  kc -P -t "$T" -p "$p" -K: -Z -z "$z" -H "codec=$z" -H "label=$label" "$@" -l "$in" ||
    fail "kcat -P $label (codec $z) to partition $p exited $?"
  hi=$(now_ms)
  while IFS=: read -r k v; do
    [[ -z $v ]] && v=NULL
    echo "$k|$v|codec=$z,label=$label|$lo-$hi|$p|${next_offset[p]}" >>"$tmp/want.$p"
    next_offset[p]=$((next_offset[p] + 1))
  done <"$in"
}

consume_and_compare() {
  local label=$1 p
  for p in 0 1 2; do
    touch "$tmp/want.$p"
    kc -C -t "$T" -p "$p" -o beginning -e -Z -f "$FMT" >"$tmp/got.$p" || fail "kcat -C partition $p exited $?"
    compare "$label partition $p" "$tmp/want.$p" "$tmp/got.$p"
  done
}

"$PY" "$here/interop.py" create-topic "$BOOTSTRAP" "$T" 3 || fail "could not create topic $T"

# 1. Metadata.
kc -L -t "$T" >"$tmp/md" || fail "kcat -L exited $?"
grep -q "^ *topic \"$T\" with 3 partitions:" "$tmp/md" || fail "kcat -L does not list $T with 3 partitions:
$(cat "$tmp/md")"
for p in 0 1 2; do
  grep -qE "^ *partition $p, leader [0-9]+, replicas: [0-9]+, isrs: [0-9]+$" "$tmp/md" ||
    fail "kcat -L: partition $p missing or without leader:
$(cat "$tmp/md")"
done
grep -qE '^ *broker [0-9]+ at ' "$tmp/md" || fail "kcat -L lists no broker:
$(cat "$tmp/md")"
echo "ok: metadata"

# 2. Every codec, to explicit partitions, read back exactly.
for i in "${!CODECS[@]}"; do
  produce "c${i}${CODECS[i]}" $((i % 3)) "${CODECS[i]}"
done
consume_and_compare "codecs"
echo "ok: codecs ${CODECS[*]}"

# 3. Idempotent producer (InitProducerId + sequence numbers).
produce "idem-gzip" 0 gzip -X enable.idempotence=true
produce "idem-none" 2 none -X enable.idempotence=true
consume_and_compare "idempotent"
echo "ok: idempotent producer"

# 4. Offsets: reading from a given offset, and ListOffsets by timestamp (-Q).
kc -C -t "$T" -p 0 -o 3 -e -Z -f "$FMT" >"$tmp/got.from3"
tail -n +4 "$tmp/want.0" >"$tmp/want.from3"
compare "partition 0 from offset 3" "$tmp/want.from3" "$tmp/got.from3"
for p in 0 1 2; do
  # for each record's timestamp: the first offset whose timestamp is >= it
  awk -F'|' '{ if (!($4 in first)) { first[$4] = $6; order[++n] = $4 } } END { for (i = 1; i <= n; i++) print order[i], first[order[i]] }' \
    "$tmp/got.$p" >"$tmp/ts.$p"
  while read -r ts off; do
    got=$(kc -Q -t "$T:$p:$ts") || fail "kcat -Q $T:$p:$ts exited $?"
    [[ $got == *"offset $off"* ]] || fail "ListOffsets partition $p timestamp $ts: kcat -Q says '$got', expected offset $off"
  done <"$tmp/ts.$p"
  got=$(kc -Q -t "$T:$p:9999999999999")
  [[ $got == *"offset -1" ]] ||
    fail "ListOffsets partition $p timestamp after the last record: kcat -Q says '$got', expected -1 (none)"
done
echo "ok: offsets and ListOffsets by timestamp"
echo "PASS test_kcat.sh"
