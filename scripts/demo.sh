#!/usr/bin/env bash
# berth's main job, end to end on one machine: build, start a throwaway berthd,
# load an offline busybox image, and look at it with both the berth CLI and the
# real docker CLI. Everything lives in a temp directory that is removed on exit.
#
#   scripts/demo.sh          (as root; run scripts/setup.sh once before)
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v go >/dev/null 2>&1; then
	export PATH="$PATH:/usr/local/go/bin"
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: berthd needs root (overlayfs, mounts); run: sudo $0" >&2
	exit 1
fi

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$plain"; }
run() {
	printf '$ %s\n' "$*"
	"$@"
}

step "build"
make --no-print-directory build

work=$(mktemp -d /tmp/berth-demo.XXXXXX)
sock="$work/berth.sock"
log="$work/berthd.log"
pid=""

cleanup() {
	local rc=$?
	set +e
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	if [ "$rc" -ne 0 ] && [ -s "$log" ]; then
		echo "demo: failed (exit $rc); last lines of $log:" >&2
		tail -n 20 "$log" >&2
	fi
	# Detach anything berthd left mounted under the temp root, deepest first.
	awk -v root="$work" '$5 == root || index($5, root "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do umount -l "$m"; done
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "start berthd (data root $work/data, socket $sock, log $log)"
bin/berthd --data-root "$work/data" --exec-root "$work/exec" -H "unix://$sock" >"$log" 2>&1 &
pid=$!
for _ in $(seq 200); do
	if curl -sf --unix-socket "$sock" http://berth/_ping >/dev/null 2>&1; then break; fi
	if ! kill -0 "$pid" 2>/dev/null; then echo "demo: berthd exited" >&2; exit 1; fi
	sleep 0.05
done
curl -sf --unix-socket "$sock" http://berth/_ping >/dev/null || { echo "demo: berthd did not answer /_ping" >&2; exit 1; }
echo "berthd is up (pid $pid)"

# Both CLIs find the daemon through the environment; a private DOCKER_CONFIG
# keeps the demo away from ~/.docker (contexts, credentials).
export DOCKER_HOST="unix://$sock" BERTH_HOST="unix://$sock" DOCKER_CONFIG="$work/docker-config"
mkdir -p "$DOCKER_CONFIG"

step "make an offline busybox image from /bin/busybox (Debian busybox-static)"
run go run ./scripts/mkbusybox -o "$work/busybox.tar"

if [ -x bin/berth ]; then
	step "berth CLI"
	run bin/berth load -i "$work/busybox.tar"
	run bin/berth images
	run bin/berth image inspect -f '{{.Config.Cmd}}' busybox
else
	step "berth CLI: bin/berth was not built (cmd/berth missing); loading with the docker CLI instead"
	run docker load -i "$work/busybox.tar"
fi

if command -v docker >/dev/null 2>&1; then
	step "the real docker CLI, same daemon ($(docker --version))"
	run docker version --format 'client {{.Client.Version}}, server {{.Server.Version}} (API {{.Server.APIVersion}})'
	run docker images
	run docker image inspect -f '{{.Config.Cmd}}' busybox
else
	step "docker CLI not on PATH: skipped"
fi

if python3 -c 'import docker' 2>/dev/null; then
	step "the Python docker SDK, same daemon"
	run python3 -c 'import docker; c = docker.from_env(); print([(i.short_id, i.tags) for i in c.images.list()])'
fi

# --- containers -------------------------------------------------------------
step "run containers with berth"
run bin/berth run --rm busybox echo hello from a berth container
run bin/berth run -d --name demo busybox sh -c 'while true; do echo tick; sleep 1; done'
sleep 1.5
run bin/berth logs demo
run bin/berth exec demo ps
if command -v docker >/dev/null 2>&1; then
	step "the same daemon through the docker CLI"
	run docker run --rm busybox sh -c 'echo hello from docker run; cat /etc/hostname'
	run docker ps
fi
run bin/berth rm -f demo

# --- build and networks -----------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if bin/berth build --help 2>/dev/null | grep -q -- "--tag"; then
	step "build the example web server (examples/hello) and publish it on 127.0.0.1:$port"
	run bin/berth build -t hello examples/hello
	image=hello
else
	step "bin/berth has no build command yet: serving the example page from busybox instead"
	image=busybox
fi
run bin/berth network create demo-net
if [ "$image" = hello ]; then
	run bin/berth run -d --name web --network demo-net -p "127.0.0.1:$port:80" hello
else
	run bin/berth run -d --name web --network demo-net -p "127.0.0.1:$port:80" -v "$PWD/examples/hello:/www:ro" busybox httpd -f -p 80 -h /www
fi
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
run curl -s "http://127.0.0.1:$port/"
step "another container on demo-net reaches it by name (embedded DNS)"
run bin/berth run --rm --network demo-net busybox wget -qO- http://web/
run bin/berth rm -f web
run bin/berth network rm demo-net

step "done; stopping berthd and removing $work"
