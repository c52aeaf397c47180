#!/usr/bin/env bash
# scripts/bench/fetch.sh over a simulated wide-area link: every tool, server
# and client runs inside a network namespace this script creates, whose
# loopback has netem delay and loss. On plain loopback the fetch is bound by
# CPU (copies, SHA-256, fsync) and a single stream is as fast as several;
# over a link with latency and loss a single TCP stream is bound by its
# congestion window, which is what parallel ranged GETs are for.
#
#   bash scripts/bench/fetch-wan.sh                       # 10 ms each way, 0.1% loss
#   DELAY=25ms LOSS=0.5% ROUNDS=3 bash scripts/bench/fetch-wan.sh
#
# Needs root (ip netns, tc). No traffic leaves the namespace's loopback.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "bench: needs root for ip netns and tc" >&2; exit 7; }
ns=pm-bench-wan-$$
ip netns add "$ns"
trap 'ip netns delete "$ns"' EXIT
ip -n "$ns" link set lo up
ip netns exec "$ns" tc qdisc add dev lo root netem delay "${DELAY:-10ms}" loss "${LOSS:-0.1%}"
echo "netns $ns: loopback with netem delay ${DELAY:-10ms} (each way) loss ${LOSS:-0.1%}"
ROUNDS=${ROUNDS:-3} SIZE_MIB=${SIZE_MIB:-512} BENCH_DIR=${BENCH_DIR:-target/bench-fetch-wan} \
  ip netns exec "$ns" bash scripts/bench/fetch.sh
