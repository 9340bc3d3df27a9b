#!/usr/bin/env bash
# bench-types.sh HOST:PORT [LABEL]: the data-type benchmarks of issue 4, side by side with a fresh redis-server
# in the same run: redis-benchmark LPUSH, LRANGE_100, RPOP, SADD, HSET, ZADD (at -P 1 and -P 16), and a BLPOP/LPUSH
# producer-consumer pair (cmd/skiff-bench -t queue: half the connections LPUSH, half BRPOP). Cells alternate
# A/B and the order flips every repeat; prints the median ours/redis throughput ratio per cell.
#
# Environment: REPEAT=3, REDIS_ARGS (extra args for the reference redis, e.g. '--appendonly yes --appendfsync
#   always.), N=200000, C=50, QUEUE_N=100000, TYPES_MATRIX (cells test:pipeline). Uses ../shared/bench/resp-lib.sh.
# Loopback only; every call is bounded by count and by RUN_TIMEOUT.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lib=${BENCH_LIB:-$here/../../shared/bench/resp-lib.sh}
[ -f "$lib" ] || { echo "needs the shared bench library at $lib (BENCH_LIB=...)" >&2; exit 2; }
# shellcheck source=/dev/null
. "$lib"
need redis-server; need redis-cli; need redis-benchmark; need timeout; need ss; need go

# The type tests, as redis-benchmark arguments (LRANGE on the list the LPUSH cell filled).
test_args() {
  case "$1" in
    lpush) printf '%s\n' -t lpush ;;
    rpop) printf '%s\n' -t rpop ;;
    sadd) printf '%s\n' -t sadd ;;
    hset) printf '%s\n' -t hset ;;
    zadd) printf '%s\n' -t zadd ;;
    lrange_100) printf '%s\n' LRANGE mylist 0 99 ;;
    *) echo "unknown test $1" >&2; return 1 ;;
  esac
}

[ $# -ge 1 ] || { sed -n '2,9p' "$0"; exit 2; }
ours_ep=$1; ours_label=${2:-ours}
ours_host=${ours_ep%:*}; ours_port=${ours_ep##*:}
REPEAT=${REPEAT:-3}
QUEUE_N=${QUEUE_N:-100000}
MATRIX=${TYPES_MATRIX:-"lpush:1 lrange_100:1 rpop:1 sadd:1 hset:1 zadd:1 lpush:16 lrange_100:16 rpop:16 sadd:16 hset:16 zadd:16 queue:1"}
read -r -a redis_extra <<<"${REDIS_ARGS:-}"

dir=$(mktemp -d -t bench-types.XXXXXX)
rpid=""
cleanup() { stop_pid "$rpid"; rm -rf "$dir"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

(cd "$here/.." && go build -o "$dir/skiff-bench" ./cmd/skiff-bench)
rport=$(free_port) || { echo "no free port in 7000-7099" >&2; exit 1; }
rpid=$(start_redis "$dir" "$rport" "${redis_extra[@]}")
echo "# reference: redis-server $(redis-server --version | awk '{print $3}') on 127.0.0.1:$rport args: ${REDIS_ARGS:-(none)}"
echo "# ours: $ours_label at $ours_ep; c=$C n=$N queue_n=$QUEUE_N repeat=$REPEAT"

raw=$dir/raw.txt; : >"$raw"
bench() { # label host port test pipe rep
  local rps p50 p99
  if [ "$4" = queue ]; then
    redis-cli -h "$2" -p "$3" del myqueue >/dev/null
    read -r rps p50 p99 < <(timeout -k 2 "$RUN_TIMEOUT" "$dir/skiff-bench" -addr "$2:$3" -t queue -c "$C" -n "$QUEUE_N" -P "$5" -json \
      | sed -n 's/.*"rps":\([0-9.]*\).*"p50":\([0-9.]*\),.*"p99":\([0-9.]*\),.*/\1 \2 \3/p')
  else
    read -r rps p50 p99 < <(run_one "$2" "$3" "$4" "$5")
  fi
  echo "$1 $4 $5 $6 ${rps:-NA} ${p50:-NA} ${p99:-NA}" >>"$raw"
}
for rep in $(seq 1 "$REPEAT"); do
  for cell in $MATRIX; do
    t=${cell%%:*}; p=${cell##*:}
    if [ $((rep % 2)) = 1 ]; then
      bench redis 127.0.0.1 "$rport" "$t" "$p" "$rep"; bench ours "$ours_host" "$ours_port" "$t" "$p" "$rep"
    else
      bench ours "$ours_host" "$ours_port" "$t" "$p" "$rep"; bench redis 127.0.0.1 "$rport" "$t" "$p" "$rep"
    fi
  done
done

printf '%-11s %3s %11s %11s %7s %13s %9s %9s\n' test P redis_rps ours_rps x_tput x_tput_range redis_p99 ours_p99
for cell in $MATRIX; do
  t=${cell%%:*}; p=${cell##*:}
  pairs=$(awk -v t="$t" -v p="$p" '$2==t && $3==p {k=$4; if($1=="redis"){r[k]=$5; rl[k]=$7} else {o[k]=$5; ol[k]=$7}}
    END{for(k in r) if(k in o) print r[k], o[k], rl[k], ol[k]}' "$raw")
  [ -z "$pairs" ] && continue
  read -r rr _ _ _ < <(echo "$pairs" | awk '{print $1}' | stats)
  read -r orr _ _ _ < <(echo "$pairs" | awk '{print $2}' | stats)
  read -r rl _ _ _ < <(echo "$pairs" | awk '{print $3}' | stats)
  read -r ol _ _ _ < <(echo "$pairs" | awk '{print $4}' | stats)
  read -r xt xtmin xtmax _ < <(echo "$pairs" | awk '$1!="NA" && $2!="NA" && $1>0 {printf "%.3f\n", $2/$1}' | stats)
  printf '%-11s %3s %11s %11s %7s %13s %9s %9s\n' "$t" "$p" "$rr" "$orr" "$xt" "$xtmin-$xtmax" "$rl" "$ol"
done
echo "# x_tput = ours_rps/redis_rps, median of per-repeat ratios; queue = skiff-bench LPUSH+BRPOP pairs (both counted)"
