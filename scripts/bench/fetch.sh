#!/usr/bin/env bash
# Benchmark of `pm image fetch` (release build), two tables, every ratio
# taken within one run from medians of ROUNDS (>= 5) rounds, the order of the
# tools rotated every round (this host is small and shared).
#
# 1. The same work, on loopback, from nginx: pm, which downloads, hashes
#    (SHA-256) in the same pass, fsyncs and renames into its store, against
#    `curl -o F && sha256sum F && sync F` and against `aria2c -x8 -s8` then
#    the same sha256sum and sync.                      Target: pm >= 2x both.
# 2. A shaped link, where one TCP stream cannot fill the pipe: two network
#    namespaces joined by a veth pair, nginx and an S3 server (s3rver) in
#    one, every client in the other; HTB on the serving side gives each TCP
#    connection its own class capped at 40 MB/s, all under 320 MB/s. pm
#    (from nginx over http, and from s3rver over S3) against `curl -o`,
#    `aria2c -x8 -s8` (nginx), `aws s3 cp` and
#    `rclone copy --multi-thread-streams 8` (s3rver). One more row, not a
#    peer, measures what the link carries at most: eight `curl -r` of an
#    eighth each, at once, without hashing or fsync. The cap counts bytes
#    on the wire, headers included, so that is about 0.95 x the cap.
#    Targets: pm >= 0.9 x the 320 MB/s cap, >= 5x curl, no slower than any peer.
#    Addresses exist only inside the two namespaces (the root namespace
#    would route them off this machine): every command that uses one runs
#    in a namespace.
#
#   sudo bash scripts/bench/fetch.sh                       # both tables
#   ROUNDS=7 SIZE_MIB=2048 SHAPED_MIB=512 bash scripts/bench/fetch.sh
#   TABLES=2 bash scripts/bench/fetch.sh                   # only the shaped link
#
# Needs root (namespaces, tc). Installs what it lacks: aria2, rclone, nginx,
# curl, iproute2 with apt-get; awscli and s3rver into .tools/ as
# scripts/test-linux.sh does. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
tools_dir="$repo/.tools"
export PATH="$tools_dir/bin:$tools_dir/venv/bin:$tools_dir/node/node_modules/.bin:$PATH:/usr/sbin:/sbin"
rounds=${ROUNDS:-5}
size_mib=${SIZE_MIB:-1024}
shaped_mib=${SHAPED_MIB:-1024}
tables=${TABLES:-1 2}
work=${BENCH_DIR:-$repo/target/bench-fetch}
# The shaped link: per connection and in total, in MB/s (10^6 bytes).
flow_mbs=40
total_mbs=320

log() { printf '==> %s\n' "$*" >&2; }
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (network namespaces, tc)" >&2; exit 9; }
[ "$rounds" -ge 5 ] || { echo "bench: ROUNDS must be at least 5" >&2; exit 2; }

install_tools() {
  source scripts/packages.sh
  pm_ensure_packages aria2 rclone nginx-light curl iproute2 python3-venv "${pm_build_packages[@]}"
  if ! command -v aws >/dev/null; then
    log "pip install awscli into .tools/venv"
    python3 -m venv "$tools_dir/venv"
    "$tools_dir/venv/bin/pip" install -q awscli
  fi
  if ! command -v s3rver >/dev/null; then
    command -v npm >/dev/null || pm_ensure_packages npm
    log "npm install s3rver into .tools/node"
    npm install --prefix "$tools_dir/node" --no-audit --no-fund -s s3rver >/dev/null
  fi
}
install_tools

log "cargo build --release"
cargo build --release --locked -q
pm="$repo/target/release/pm"

rm -rf "$work"
mkdir -p "$work"/{origin/bench,out,nginx1,nginx2,s3rver}
obj="$work/origin/bench/obj"
shaped_obj="$work/origin/bench/shaped"
head -c "$((size_mib << 20))" /dev/urandom >"$obj"
head -c "$((shaped_mib << 20))" /dev/urandom >"$shaped_obj"
digest=$(sha256sum "$obj" | cut -d' ' -f1)
shaped_digest=$(sha256sum "$shaped_obj" | cut -d' ' -f1)

pids=()
ns_srv="pmbench-srv-$$"
ns_cli="pmbench-cli-$$"
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del "$ns_srv" 2>/dev/null || true
  ip netns del "$ns_cli" 2>/dev/null || true
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_port HOST PORT [NETNS]
wait_port() {
  local run=()
  [ -n "${3:-}" ] && run=(ip netns exec "$3")
  for _ in $(seq 1 400); do
    "${run[@]}" bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "bench: nothing listens on $1:$2" >&2
  exit 1
}

# nginx_conf DIR LISTEN: a static origin serving $work/origin.
nginx_conf() {
  cat >"$1/nginx.conf" <<CONF
daemon off; worker_processes 2; error_log $1/error.log; pid $1/nginx.pid;
events { worker_connections 512; }
http {
  access_log off; sendfile on; tcp_nopush on;
  client_body_temp_path $1; proxy_temp_path $1; fastcgi_temp_path $1;
  uwsgi_temp_path $1; scgi_temp_path $1;
  server { listen $2; root $work/origin; }
}
CONF
}

seconds() { date +%s.%N; }
# The host's load, printed with each table: on a shared machine it decides
# how far the medians can be trusted.
load() { echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"; }
rate() { python3 -c "print(f'{$1/($3-$2)/1e6:.0f}')"; }

# The tools. Each writes a fresh file (pm: into an empty store) on the same
# disk, and its result is checked. pm's state file is made once, outside the
# timing, and copied into place before each run: on a host it exists
# already, and creating it is not part of a fetch.
out="$work/out"
PM_STATE="$work/pristine/state.db" "$pm" -q state prune --older-than 1000days >/dev/null
fresh_out() {
  rm -rf "${out:?}"/*
  cp "$work/pristine/state.db" "$out/state.db"
  sync
}
check_digest() {
  [ "$1" = "$2" ] || { echo "bench: $3 got digest $1, expected $2" >&2; exit 1; }
}
check_size() {
  [ "$(stat -c %s "$1")" = "$2" ] || { echo "bench: $3 wrote the wrong size" >&2; exit 1; }
}

# Table 1, on loopback.
run_same_work() {
  local tool=$1 url="http://127.0.0.1:$web1/bench/obj" start end got
  fresh_out
  start=$(seconds)
  case $tool in
    pm)
      got=$(PM_STATE="$out/state.db" "$pm" -q image fetch "$url" --json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"][7:])') ;;
    curl+sha256sum+sync)
      curl -sS -o "$out/obj" "$url" && got=$(sha256sum "$out/obj" | cut -d' ' -f1) && sync "$out/obj" ;;
    aria2c+sha256sum+sync)
      aria2c -q -x8 -s8 --allow-overwrite=true -d "$out" -o obj "$url" &&
        got=$(sha256sum "$out/obj" | cut -d' ' -f1) && sync "$out/obj" ;;
  esac
  end=$(seconds)
  check_digest "$got" "$digest" "$tool"
  rate "$((size_mib << 20))" "$start" "$end"
}

# Table 2, in the client namespace.
in_client() { ip netns exec "$ns_cli" "$@"; }
# eight_ranges URL BYTES: eight curls at once, an eighth each.
eight_ranges() {
  local i eighth=$(($2 / 8)) curls=()
  for i in $(seq 0 7); do
    in_client curl -sS -r "$((i * eighth))-$(((i + 1) * eighth - 1))" -o "$out/shaped.$i" "$1" &
    curls+=($!)
  done
  wait "${curls[@]}"
}
run_shaped() {
  local tool=$1 bytes=$((shaped_mib << 20)) start end got="" i
  local web="http://$srv_ip:$web2/bench/shaped" s3="http://$srv_ip:$s3port"
  fresh_out
  start=$(seconds)
  case $tool in
    pm-http)
      got=$(in_client env PM_STATE="$out/state.db" "$pm" -q image fetch "$web" --json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"][7:])') ;;
    pm-s3)
      got=$(in_client env PM_STATE="$out/state.db" AWS_ENDPOINT_URL="$s3" \
        "$pm" -q image fetch s3://bench/shaped --json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"][7:])') ;;
    curl) in_client curl -sS -o "$out/shaped" "$web" ;;
    curl-x8) eight_ranges "$web" "$bytes" ;;
    aria2c) in_client aria2c -q -x8 -s8 --allow-overwrite=true -d "$out" -o shaped "$web" ;;
    aws) in_client aws --endpoint-url "$s3" s3 cp --only-show-errors s3://bench/shaped "$out/shaped" ;;
    rclone) in_client rclone copy --multi-thread-streams 8 s3:bench/shaped "$out/" ;;
  esac
  end=$(seconds)
  if [ -n "$got" ]; then
    check_digest "$got" "$shaped_digest" "$tool"
  elif [ "$tool" = curl-x8 ]; then
    for i in $(seq 0 7); do check_size "$out/shaped.$i" "$((bytes / 8))" "$tool"; done
  else
    check_size "$out/shaped" "$bytes" "$tool"
  fi
  rate "$bytes" "$start" "$end"
}

# HTB on the serving side of the veth: one class per TCP connection, each
# capped at $flow_mbs MB/s, under a parent capped at $total_mbs MB/s. Leaf
# classes guarantee only 1 Mbit (so the leaves cannot add up past the
# parent) and borrow up to their ceiling. Connections are told apart by
# cls_flow's hash of the 4-tuple where the kernel has it; this host's kernel
# has only the u32 classifier, so there a u32 hash table on the client's
# port (the only part of the tuple that differs between the connections of
# one client to one server) picks one of 256 classes.
shape() {
  local dev=$1 batch="$work/tc.batch" i
  local flow="$((flow_mbs * 8))mbit" total="$((total_mbs * 8))mbit"
  {
    echo "qdisc add dev $dev root handle 1: htb default 2"
    echo "class add dev $dev parent 1: classid 1:1 htb rate $total ceil $total burst 1m cburst 1m quantum 65536"
    echo "class add dev $dev parent 1:1 classid 1:2 htb rate 1mbit ceil $flow burst 256k cburst 256k quantum 65536"
    for i in $(seq 0 255); do
      printf 'class add dev %s parent 1:1 classid 1:%x htb rate 1mbit ceil %s burst 256k cburst 256k quantum 65536\n' "$dev" $((0x100 + i)) "$flow"
    done
  } >"$batch"
  ip netns exec "$ns_srv" tc -batch "$batch"
  if ip netns exec "$ns_srv" tc filter add dev "$dev" parent 1: protocol ip prio 1 handle 1 \
    flow hash keys src,dst,proto-src,proto-dst divisor 256 baseclass 1:100 2>/dev/null; then
    classifier="cls_flow hash of src,dst,proto-src,proto-dst"
    return
  fi
  {
    echo "filter add dev $dev parent 1: prio 1 handle 2: protocol ip u32 divisor 256"
    echo "filter add dev $dev parent 1: prio 1 protocol ip u32 ht 800:: match ip protocol 6 0xff hashkey mask 0x0000ffff at 20 link 2:"
    for i in $(seq 0 255); do
      printf 'filter add dev %s parent 1: prio 1 protocol ip u32 ht 2:%x: match ip protocol 6 0xff flowid 1:%x\n' "$dev" "$i" $((0x100 + i))
    done
  } >"$batch"
  ip netns exec "$ns_srv" tc -batch "$batch"
  classifier="u32 hash of the client port (this kernel has no cls_flow)"
}

setup_loopback() {
  web1=$(free_port)
  nginx_conf "$work/nginx1" "127.0.0.1:$web1"
  nginx -c "$work/nginx1/nginx.conf" -p "$work/nginx1" &
  pids+=($!)
  wait_port 127.0.0.1 "$web1"
}

setup_namespaces() {
  srv_ip=10.231.0.1
  local cli_ip=10.231.0.2
  ip netns add "$ns_srv"
  ip netns add "$ns_cli"
  ip link add pmb-srv$$ type veth peer name pmb-cli$$
  ip link set pmb-srv$$ netns "$ns_srv"
  ip link set pmb-cli$$ netns "$ns_cli"
  ip -n "$ns_srv" addr add "$srv_ip/24" dev pmb-srv$$
  ip -n "$ns_cli" addr add "$cli_ip/24" dev pmb-cli$$
  for ns in "$ns_srv" "$ns_cli"; do ip -n "$ns" link set lo up; done
  ip -n "$ns_srv" link set pmb-srv$$ up
  ip -n "$ns_cli" link set pmb-cli$$ up
  web2=8080
  s3port=9000
  nginx_conf "$work/nginx2" "$srv_ip:$web2"
  ip netns exec "$ns_srv" nginx -c "$work/nginx2/nginx.conf" -p "$work/nginx2" &
  pids+=($!)
  ip netns exec "$ns_srv" s3rver -d "$work/s3rver" -a "$srv_ip" -p "$s3port" --silent >/dev/null &
  pids+=($!)
  wait_port "$srv_ip" "$web2" "$ns_cli"
  wait_port "$srv_ip" "$s3port" "$ns_cli"
  # Upload inside the serving namespace (over its own lo: not shaped).
  ip netns exec "$ns_srv" aws --endpoint-url "http://$srv_ip:$s3port" s3 mb s3://bench >/dev/null
  ip netns exec "$ns_srv" aws --endpoint-url "http://$srv_ip:$s3port" s3 cp --only-show-errors \
    "$shaped_obj" s3://bench/shaped
  shape pmb-srv$$
  export RCLONE_CONFIG=/dev/null RCLONE_CONFIG_S3_TYPE=s3 RCLONE_CONFIG_S3_PROVIDER=Other \
    RCLONE_CONFIG_S3_ENDPOINT="http://$srv_ip:$s3port" RCLONE_CONFIG_S3_ACCESS_KEY_ID=S3RVER \
    RCLONE_CONFIG_S3_SECRET_ACCESS_KEY=S3RVER RCLONE_CONFIG_S3_FORCE_PATH_STYLE=true
}

export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 \
  AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
# Every endpoint here is plain http; rclone 1.60 refuses to start when a CA
# bundle is configured for it anyway.
unset AWS_CA_BUNDLE

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# rounds RUNNER TOOL...: prints each round and fills med[TOOL].
declare -A med
run_rounds() {
  local runner=$1 round i tool line r
  shift
  local tools=("$@")
  declare -A rates=()
  for round in $(seq 0 $((rounds - 1))); do
    line="  round $((round + 1)):"
    for i in "${!tools[@]}"; do
      tool=${tools[$(((i + round) % ${#tools[@]}))]}
      r=$("$runner" "$tool")
      rates[$tool]+="$r "
      line+=" $tool=$r"
    done
    echo "$line MB/s"
  done
  for tool in "${tools[@]}"; do med[$tool]=$(echo "${rates[$tool]}" | median); done
}

ratio() { python3 -c "print(f'{${med[$1]}/${med[$2]}:.2f}')"; }
verdict() { python3 -c "print('met' if $1 >= $2 else 'NOT met')"; }

table_same_work() {
  setup_loopback
  echo
  echo "Table 1: the same work (download, SHA-256, fsync), $size_mib MiB from nginx on loopback, $rounds rounds ($(load))"
  run_rounds run_same_work pm curl+sha256sum+sync aria2c+sha256sum+sync
  echo
  echo "| tool | median MB/s | pm / tool | target |"
  echo "|---|---|---|---|"
  echo "| pm image fetch (http) | ${med[pm]} | | |"
  for t in curl+sha256sum+sync aria2c+sha256sum+sync; do
    local r
    r=$(ratio pm "$t")
    echo "| $t | ${med[$t]} | $r | >= 2: $(verdict "$r" 2) |"
  done
  echo "(load after the table: $(load))"
}

table_shaped() {
  setup_namespaces
  echo
  echo "Table 2: shaped link ($flow_mbs MB/s per connection, $total_mbs MB/s in total; $classifier), $shaped_mib MiB, $rounds rounds ($(load))"
  run_rounds run_shaped pm-http pm-s3 curl aria2c aws rclone curl-x8
  local best_pm best_peer cap_ratio
  best_pm=$(python3 -c "print(max(${med[pm-http]}, ${med[pm-s3]}))")
  echo
  echo "| tool | server | median MB/s | pm-http / tool | pm-s3 / tool |"
  echo "|---|---|---|---|---|"
  for t in pm-http pm-s3 curl aria2c aws rclone curl-x8; do
    local server=nginx
    case $t in pm-s3 | aws | rclone) server=s3rver ;; esac
    echo "| $t | $server | ${med[$t]} | $(ratio pm-http "$t") | $(ratio pm-s3 "$t") |"
  done
  cap_ratio=$(python3 -c "print(f'{$best_pm/$total_mbs:.2f}')")
  best_peer=$(python3 -c "print(max(${med[curl]}, ${med[aria2c]}, ${med[aws]}, ${med[rclone]}))")
  echo
  echo "pm / cap ($total_mbs MB/s): $cap_ratio (target >= 0.9: $(verdict "$cap_ratio" 0.9))"
  echo "pm / what the link carries (curl-x8, ${med[curl-x8]} MB/s): $(python3 -c "print(f'{$best_pm/${med[curl-x8]}:.2f}')")"
  echo "pm / curl: $(ratio pm-http curl) (target >= 5: $(verdict "$(ratio pm-http curl)" 5))"
  echo "pm / fastest peer ($best_peer MB/s): $(python3 -c "print(f'{$best_pm/$best_peer:.2f}')") (target >= 1: $(verdict "$best_pm" "$best_peer"))"
  echo "same server: pm-s3 / aws = $(ratio pm-s3 aws), pm-s3 / rclone = $(ratio pm-s3 rclone); pm-http / aria2c = $(ratio pm-http aria2c)"
  echo "(load after the table: $(load))"
}

for t in $tables; do
  case $t in
    1) table_same_work ;;
    2) table_shaped ;;
  esac
done
