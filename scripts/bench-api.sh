#!/usr/bin/env bash
# bench-api.sh: issue 5's API benchmarks, skiff and etcd side by side in the same run, on loopback.
# Starts a 3-node skiff dev-cluster (RESP 7500-7502, Raft 17500-17502, gRPC 7600-7602, REST 7700-7702, data in a
# temp dir) and a 3-member etcd (../shared/bench/etcd-cluster.sh, clients 12379/12381/12383), then alternates per
# repeat (the order flips every repeat):
#   skiff gRPC KV.Put and KV.Get (linearizable) and REST PUT/GET, via cmd/skiff-bench, 50 connections, to the leader
#   (and RESP SET for reference)
#   and to a follower (forwarded);
#   etcd Put and Range (linearizable and serializable), via etcd's benchmark tool (v3.6.5), 50 connections/clients,
#   to the leader (--target-leader) and spread over all members.
# Prints medians of requests/s and p99 per cell. Environment: REPEAT=3, PUTS=30000, GETS=60000, VAL=256,
# ETCD_BENCHMARK (default: the tool ../shared/bench/etcd-bench.sh builds). Stops what it started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bench=${BENCH_DIR:-$here/../../shared/bench}
REPEAT=${REPEAT:-3}; PUTS=${PUTS:-30000}; GETS=${GETS:-60000}; VAL=${VAL:-256}
etcdb=${ETCD_BENCHMARK:-${XDG_CACHE_HOME:-$HOME/.cache}/kvbench/etcd-benchmark}
[ -x "$etcdb" ] || { echo "etcd benchmark tool missing at $etcdb: run $bench/etcd-bench.sh once to build it" >&2; exit 2; }

work=$(mktemp -d -t bench-api.XXXXXX)
dcpid=""
cleanup() {
  [ -n "$dcpid" ] && kill "$dcpid" 2>/dev/null && wait "$dcpid" 2>/dev/null
  "$bench/etcd-cluster.sh" stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

(cd "$here/.." && go build -o "$work/skiff" ./cmd/skiff && go build -o "$work/skiff-bench" ./cmd/skiff-bench)
"$work/skiff" dev-cluster --nodes 3 --base-port 7500 --grpc-base-port 7600 --http-base-port 7700 --dir "$work/dev" \
  >"$work/dev.out" 2>"$work/dev.log" &
dcpid=$!
"$bench/etcd-cluster.sh" start >/dev/null
eps=127.0.0.1:12379,127.0.0.1:12381,127.0.0.1:12383
ETCDCTL_API=3 etcdctl --endpoints="$eps" put foo bar >/dev/null

leader="" follower=""
for _ in $(seq 100); do
  for i in 0 1 2; do
    if [ "$(redis-cli -p $((7500 + i)) role 2>/dev/null | head -1)" = master ]; then leader=$i; fi
  done
  [ -n "$leader" ] && break
  sleep 0.2
done
[ -n "$leader" ] || { echo "no skiff leader" >&2; cat "$work/dev.log" >&2; exit 1; }
follower=$(( (leader + 1) % 3 ))
echo "# skiff leader n$((leader + 1)); follower n$((follower + 1)); etcd $eps; repeat=$REPEAT puts=$PUTS gets=$GETS val=$VAL"

raw=$work/raw.txt; : >"$raw"
sb() { # label mode addr test n
  local out
  out=$(timeout -k 2 120 "$work/skiff-bench" -mode "$2" -addr "$3" -t "$4" -c 50 -n "$5" -d "$VAL" -r 30000 -json) || true
  echo "$1 $(echo "$out" | sed -n 's/.*"rps":\([0-9.]*\).*"p50":\([0-9.]*\),.*"p99":\([0-9.]*\),.*/\1 \2 \3/p')" >>"$raw"
}
eb() { # label args...
  local label=$1 out; shift
  out=$(timeout -k 5 120 "$etcdb" --precise "$@" 2>/dev/null || true)
  echo "$label $(echo "$out" | awk '/Requests\/sec:/{printf "%.1f ", $2} $1=="50%" && $2=="in" {printf "%.3f ", $3*1000} $1=="99%" && $2=="in" {printf "%.3f", $3*1000}')" >>"$raw"
}
skiff_cells() {
  sb skiff_resp_set_leader resp "127.0.0.1:$((7500 + leader))" set "$PUTS"
  sb skiff_grpc_put_leader grpc "127.0.0.1:$((7600 + leader))" put "$PUTS"
  sb skiff_grpc_get_leader grpc "127.0.0.1:$((7600 + leader))" get "$GETS"
  sb skiff_grpc_put_follower grpc "127.0.0.1:$((7600 + follower))" put "$PUTS"
  sb skiff_rest_put_leader http "127.0.0.1:$((7700 + leader))" put "$PUTS"
  sb skiff_rest_get_leader http "127.0.0.1:$((7700 + leader))" get "$GETS"
}
etcd_cells() {
  eb etcd_put_leader --endpoints="$eps" --target-leader --conns=50 --clients=50 put --key-size=8 --sequential-keys --total="$PUTS" --val-size="$VAL"
  eb etcd_put_spread --endpoints="$eps" --conns=50 --clients=50 put --key-size=8 --sequential-keys --total="$PUTS" --val-size="$VAL"
  eb etcd_range_l_leader --endpoints="$eps" --target-leader --conns=50 --clients=50 range foo --consistency=l --total="$GETS"
  eb etcd_range_s_spread --endpoints="$eps" --conns=50 --clients=50 range foo --consistency=s --total="$GETS"
}
for rep in $(seq 1 "$REPEAT"); do
  if [ $((rep % 2)) = 1 ]; then skiff_cells; etcd_cells; else etcd_cells; skiff_cells; fi
done

printf '%-26s %10s %9s %9s\n' cell rps_med p50_ms p99_ms
for cell in $(awk '{print $1}' "$raw" | awk '!seen[$0]++'); do
  med() { awk -v c="$cell" -v k="$1" '$1==c && NF>=4 {print $k}' "$raw" | sort -g | awk '{a[n++]=$1} END{ if(n==0){print "NA"; exit} print (n%2)?a[int(n/2)]:(a[n/2-1]+a[n/2])/2 }'; }
  printf '%-26s %10s %9s %9s\n' "$cell" "$(med 2)" "$(med 3)" "$(med 4)"
done
