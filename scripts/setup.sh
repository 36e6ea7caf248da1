#!/usr/bin/env bash
# Prepare a fresh Debian 12 machine (root, no systemd) to build and test berth.
# Safe to run again: apt is skipped when every package is already installed.
#
#   sudo scripts/setup.sh
set -euo pipefail

cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

log() { printf 'setup: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "setup: must run as root (apt-get, and later the tests, need it)" >&2
	exit 1
fi

# Runtimes, the test image source (busybox-static), networking tools, the
# reference registry and htpasswd for push/pull tests, tini for --init, skopeo
# as a second registry client; docker-compose (v1, Python) for the compose e2e tests; gcc, pkg-config and libseccomp-dev because berthd
# links libseccomp (cgo) to precompile seccomp profiles for crun. docker.io is
# deliberately absent: installing it would change which `docker` CLI is on PATH;
# the bench uses dockerd only if present.
packages=(runc crun busybox-static iptables iproute2 docker-registry apache2-utils tini skopeo docker-compose ca-certificates gcc pkg-config libseccomp-dev)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	log "all ${#packages[@]} Debian packages already installed; skipping apt"
else
	log "installing: ${missing[*]}"
	apt-get update -qq
	apt-get install -y --no-install-recommends "${missing[@]}"
fi

# The Python docker SDK (7.1 on the reference machines) drives the docker-py e2e tests.
if python3 -c 'import docker' 2>/dev/null; then
	log "python docker SDK $(python3 -c 'import docker; print(docker.__version__)') importable"
else
	log "python docker SDK missing; trying Debian's python3-docker"
	if [ "${#missing[@]}" -eq 0 ]; then apt-get update -qq; fi
	if apt-get install -y --no-install-recommends python3-docker && python3 -c 'import docker' 2>/dev/null; then
		log "python docker SDK $(python3 -c 'import docker; print(docker.__version__)') importable (Debian package)"
	else
		# python3 on PATH may not be Debian's interpreter, which is where python3-docker lands.
		log "WARNING: 'python3 -c \"import docker\"' still fails ($(command -v python3)); the docker-py tests will fail or skip"
	fi
fi

if ! command -v go >/dev/null 2>&1; then
	export PATH="$PATH:/usr/local/go/bin"
fi
log "$(go version)"
go mod download
make build
log "done: $(ls bin/ | tr '\n' ' ')"
