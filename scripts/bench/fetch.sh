#!/usr/bin/env bash
# Benchmark of `pm image fetch` (release build) on loopback, against
#   (a) s3rver (npm): pm s3:// vs `aws s3 cp`
#   (b) nginx as a static origin: pm http:// vs `aws s3 cp` (nginx serves
#       the same file as a path-style S3 GET) vs `curl -o`
# with a 1 GiB object, all writing to the same disk, the order of the tools
# rotated every round. Prints per-run rates, medians, ratios and pm's peak RSS.
#
#   bash scripts/bench/fetch.sh                  # 5 rounds, 1 GiB
#   ROUNDS=3 SIZE_MIB=512 bash scripts/bench/fetch.sh
#   TOOLS="pm-s3 aws-s3" PM_IMAGE_PART_SIZE=16MiB bash scripts/bench/fetch.sh
#                                                # a subset; pm's settings by env
#
# Tools: run `bash scripts/test-linux.sh` once (installs awscli and s3rver
# into .tools/, nginx-light and time from apt).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
export PATH="$repo/.tools/bin:$repo/.tools/venv/bin:$repo/.tools/node/node_modules/.bin:$PATH:/usr/sbin"
rounds=${ROUNDS:-5}
size_mib=${SIZE_MIB:-1024}
work=${BENCH_DIR:-$repo/target/bench-fetch}

need() { command -v "$1" >/dev/null || { echo "bench: $1 missing: run bash scripts/test-linux.sh first" >&2; exit 7; }; }
need aws; need s3rver; need curl; need nginx; need /usr/bin/time

cargo build --release --locked -q
pm="$repo/target/release/pm"

rm -rf "$work"; mkdir -p "$work"/{origin/bench,s3rver,out,nginx}
obj="$work/origin/bench/obj"
head -c "$((size_mib << 20))" /dev/urandom > "$obj"
bytes=$(stat -c %s "$obj")
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "bench: nothing on port $1" >&2; exit 1; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# (a) s3rver, fed through the S3 API.
s3port=$(free_port)
s3rver -d "$work/s3rver" -a 127.0.0.1 -p "$s3port" --silent & pids+=($!)
wait_port "$s3port"
# (b) nginx serving the object's directory.
webport=$(free_port)
cat > "$work/nginx/nginx.conf" <<CONF
daemon off; worker_processes 1; error_log $work/nginx/error.log; pid $work/nginx/nginx.pid;
events { worker_connections 256; }
http {
  access_log off; sendfile on; tcp_nopush on;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server { listen 127.0.0.1:$webport; root $work/origin; }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" & pids+=($!)
wait_port "$webport"

export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 \
  AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
aws --endpoint-url "http://127.0.0.1:$s3port" s3 mb s3://bench >/dev/null
aws --endpoint-url "http://127.0.0.1:$s3port" s3 cp --only-show-errors "$obj" s3://bench/obj

out="$work/out"
# Each tool writes a fresh file (pm: a fresh store) on the same disk.
run_tool() {
  local tool=$1 start end
  rm -rf "$out"/*; sync
  start=$(date +%s.%N)
  case $tool in
    pm-s3)   /usr/bin/time -f %M -o "$work/rss" env PM_STATE="$out/state.db" AWS_ENDPOINT_URL="http://127.0.0.1:$s3port" \
               "$pm" -q image fetch s3://bench/obj >/dev/null ;;
    aws-s3)  aws --endpoint-url "http://127.0.0.1:$s3port" s3 cp --only-show-errors s3://bench/obj "$out/obj" ;;
    pm-http) /usr/bin/time -f %M -o "$work/rss" env PM_STATE="$out/state.db" \
               "$pm" -q image fetch "http://127.0.0.1:$webport/bench/obj" >/dev/null ;;
    aws-web) aws --endpoint-url "http://127.0.0.1:$webport" s3 cp --only-show-errors s3://bench/obj "$out/obj" ;;
    curl)    curl -sS -o "$out/obj" "http://127.0.0.1:$webport/bench/obj" ;;
  esac
  end=$(date +%s.%N)
  [ "$(stat -c %s "$out"/obj 2>/dev/null || stat -c %s "$out"/images/sha256/* )" = "$bytes" ] \
    || { echo "bench: $tool wrote the wrong size" >&2; exit 1; }
  python3 -c "print(f'{$bytes/($end-$start)/1e6:.0f}')"
}

read -r -a tools <<< "${TOOLS:-pm-s3 aws-s3 pm-http aws-web curl}"
declare -A rates
rss=()
echo "object: $bytes bytes; rounds: $rounds; dd with fdatasync for reference:"
dd if=/dev/zero of="$out/dd" bs=8M count="$((size_mib / 8))" conv=fdatasync 2>&1 | tail -1
for round in $(seq 0 $((rounds - 1))); do
  line="round $((round + 1)):"
  for i in "${!tools[@]}"; do
    tool=${tools[$(( (i + round) % ${#tools[@]} ))]}
    rate=$(run_tool "$tool")
    rates[$tool]+="$rate "
    [[ $tool == pm-* ]] && rss+=("$(cat "$work/rss")")
    line+=" $tool=$rate"
  done
  echo "$line MB/s"
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -A med
for t in "${tools[@]}"; do med[$t]=$(echo "${rates[$t]}" | median); done
peak_kib=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
echo
echo "medians (MB/s): $(for t in "${tools[@]}"; do printf '%s=%s ' "$t" "${med[$t]}"; done)"
ratio() {
  local label=$1 a=$2 b=$3 target=$4
  [ -n "${med[$a]:-}" ] && [ -n "${med[$b]:-}" ] || return 0
  python3 -c "print(f'$label = {${med[$a]}/${med[$b]}:.2f}   (target >= $target)')"
}
ratio "(a) s3rver: pm / aws s3 cp     " pm-s3 aws-s3 1.5
ratio "(b) nginx:  pm / aws s3 cp     " pm-http aws-web 2
ratio "(b) nginx:  pm / curl -o       " pm-http curl 1.2
[ -n "${peak_kib:-}" ] && echo "pm peak RSS: $((peak_kib / 1024)) MiB   (target < 128)"
