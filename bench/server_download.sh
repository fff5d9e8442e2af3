#!/usr/bin/env bash
# Artifact download throughput on loopback: one artifact served by `vqi server` and by Debian's
# nginx (sendfile on, same file, same run), both fetched with curl, rounds alternating.
# Prints MB/s per round, the medians and their ratio (goal: vqi >= 0.8x nginx), then the
# HTTP API's operations per second (server_api_bench) when it is built.
#
# Usage: bench/server_download.sh [BUILD_DIR] [ROUNDS] [SIZE_MB]   (defaults build/release 7 200)
set -euo pipefail
BUILD=$(cd "${1:-build/release}" && pwd)
ROUNDS=${2:-7}
SIZE_MB=${3:-200}
VQI=$BUILD/apps/vqi/vqi
command -v nginx >/dev/null || NGINX=/usr/sbin/nginx
NGINX=${NGINX:-nginx}
[ -x "$VQI" ] || { echo "no $VQI (build the vqi target)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/vqi-serverbench-XXXXXX)
chmod 755 "$WORK"
SERVER_PID=; NGINX_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

HOME_DIR=$WORK/home
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "== artifact: $SIZE_MB MB of random bytes"
head -c "${SIZE_MB}M" /dev/urandom > "$WORK/artifact.bin"
TOKEN=$("$VQI" --home "$HOME_DIR" --json server token create --name bench --scope write 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

"$VQI" --home "$HOME_DIR" server --port 0 --workers 4 >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do grep -q listening "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -E 's/.*:([0-9]+) .*/\1/' "$WORK/server.out")
[ -n "$PORT" ] || { cat "$WORK/server.err"; exit 1; }

# Upload through the API (also measured), so the blob store holds it where vqi keeps it.
UP=$(curl -s -o "$WORK/up.json" -w '%{speed_upload}' -H "Authorization: Bearer $TOKEN" \
       -T "$WORK/artifact.bin" "http://127.0.0.1:$PORT/v1/artifacts")
DIGEST=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sha256"])' "$WORK/up.json")
BLOB=$HOME_DIR/artifacts/${DIGEST:0:2}/$DIGEST
[ -f "$BLOB" ] || { echo "upload failed: $(cat "$WORK/up.json")" >&2; exit 1; }
chmod -R a+rX "$HOME_DIR/artifacts"
echo "upload (PUT /v1/artifacts, hashed + stored): $(python3 -c "print(round($UP/1e6,1))") MB/s"

NPORT=$(free_port)
mkdir -p "$WORK/nginx"
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  server {
    listen 127.0.0.1:$NPORT;
    location /artifacts/ { alias $HOME_DIR/artifacts/; }
  }
}
CONF
"$NGINX" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$NPORT/" && break; sleep 0.1; done

VQI_URL="http://127.0.0.1:$PORT/v1/artifacts/$DIGEST"
NGINX_URL="http://127.0.0.1:$NPORT/artifacts/${DIGEST:0:2}/$DIGEST"
# Both must serve the same bytes.
[ "$(curl -s -H "Authorization: Bearer $TOKEN" "$VQI_URL" | sha256sum | cut -c1-64)" = "$DIGEST" ]
[ "$(curl -s "$NGINX_URL" | sha256sum | cut -c1-64)" = "$DIGEST" ]

echo "== download, $ROUNDS rounds alternating (curl -o /dev/null -w %{speed_download}), MB/s"
V=(); N=()
for i in $(seq "$ROUNDS"); do
  v=$(curl -s -o /dev/null -w '%{speed_download}' -H "Authorization: Bearer $TOKEN" "$VQI_URL")
  n=$(curl -s -o /dev/null -w '%{speed_download}' "$NGINX_URL")
  V+=("$v"); N+=("$n")
  printf 'round %d: vqi %8.1f   nginx %8.1f\n' "$i" "$(python3 -c "print($v/1e6)")" "$(python3 -c "print($n/1e6)")"
done
python3 - "${V[*]}" "${N[*]}" <<'PY'
import statistics, sys
v = [float(x) / 1e6 for x in sys.argv[1].split()]
n = [float(x) / 1e6 for x in sys.argv[2].split()]
mv, mn = statistics.median(v), statistics.median(n)
print(f"median: vqi {mv:.1f} MB/s, nginx {mn:.1f} MB/s, ratio vqi/nginx {mv / mn:.2f} (goal >= 0.8)")
print(f"best:   vqi {max(v):.1f} MB/s, nginx {max(n):.1f} MB/s, ratio {max(v) / max(n):.2f}")
# Per round (each pair ran back to back, so it saw about the same machine load).
ratios = sorted(a / b for a, b in zip(v, n))
print(f"per-round ratios: {' '.join(f'{r:.2f}' for r in ratios)}; median {statistics.median(ratios):.2f}")
PY

if [ -x "$BUILD/bench/server_api_bench" ]; then
  echo "== HTTP API operations per second (server_api_bench)"
  "$BUILD/bench/server_api_bench"
fi
