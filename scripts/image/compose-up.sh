#!/usr/bin/env bash
# Runs an image layout the way a Dstack CVM runs the app: dstack/docker-compose.yml, unchanged, through Docker
# Compose (the v2 binary `make setup` installs) against podman's Docker API socket (Debian's podman, runc, the
# cgroupfs manager: crun fails on this host's hybrid cgroups). Used by the image test (Tests/DeployTests).
#
#   scripts/image/compose-up.sh up WORK LAYOUT AGENT_SOCKET   prints `url=http://127.0.0.1:PORT` once /readyz answers 200
#   scripts/image/compose-up.sh down WORK                     stops everything `up` started and removes the image
#
# An override file changes only what must differ outside a CVM, each said on stdout as `report: …`:
#   - image: the layout's image, pulled into podman's store (no registry here);
#   - ports: a free loopback port instead of 8787 on every address;
#   - volumes: the development guest agent's socket where dstack.sock goes (the data volume stays);
#   - security_opt: unmask=ALL, podman's spelling of the compose file's `systempaths=unconfined`, which podman's
#     Docker API silently drops (without it /proc stays masked and a job's fresh /proc is refused); the
#     override's list is added to the compose file's, which stays as Docker reads it;
#   - command: on a cgroup v1 host only, `--unsafe-allow-missing-cgroups`: in a container here the v1
#     controllers are mounted read-only, so jobs run without memory, pids and cpu limits, which the daemon
#     reports as `cgroups: none`. A Dstack CVM is cgroup v2, where the entrypoint makes the tree writable.
# The compose file's capabilities, security options, user, environment and health check apply as written.
# podman's default rlimits are set to this process's own hard limits (containers.conf), because this sandboxed
# machine has no CAP_SYS_RESOURCE to raise them; that is the host's runtime setting, not the compose file's.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd -P)
compose_binary=$repo/.tools/compose/docker-compose

command=$1 work=$2
project=oauth3image$(basename "$work" | tr -dc 'a-z0-9' | tail -c 12)
compose() {
  DOCKER_HOST="unix://$work/podman.sock" OAUTH3_PUBLIC_URL="$(cat "$work/url")" \
    "$compose_binary" -p "$project" -f "$repo/dstack/docker-compose.yml" -f "$work/override.yml" "$@"
}
podman_() { CONTAINERS_CONF="$work/containers.conf" podman --runtime runc --cgroup-manager cgroupfs "$@"; }

if [ "$command" = down ]; then
  [ -f "$work/override.yml" ] && compose down --volumes --timeout 10 >/dev/null 2>&1 || true
  [ -f "$work/podman.pid" ] && kill "$(cat "$work/podman.pid")" 2>/dev/null || true
  # By id: the pull named it after the layout's path as well as the tag, and both names go.
  [ -f "$work/image-id" ] && podman_ rmi --force "$(cat "$work/image-id")" >/dev/null 2>&1 || true
  exit 0
fi

layout=$3 agent_socket=$4
mkdir -p "$work/ref"
# podman names an `oci:` image after its path; the link gives it a path that is a valid name.
ln -sfn "$(cd "$layout" && pwd -P)" "$work/ref/oauth3-enclave"
nproc_hard=$(ulimit -Hu); [ "$nproc_hard" = unlimited ] || [ "$nproc_hard" -gt 32768 ] && nproc_hard=32768  # podman caps its own at 32768
printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n' "$(ulimit -Hn)" "$(ulimit -Hn)" "$nproc_hard" "$nproc_hard" > "$work/containers.conf"
tag=localhost/oauth3-enclave:test-$project
podman_ pull --quiet "oci:$work/ref/oauth3-enclave:latest" > "$work/image-id"
podman_ tag "$(cat "$work/image-id")" "$tag"
echo "$tag" > "$work/tag"

# Not through podman_: `$!` of a backgrounded shell function is the subshell's pid, and `down` would kill that
# subshell and leave the service running.
CONTAINERS_CONF="$work/containers.conf" podman --runtime runc --cgroup-manager cgroupfs system service --time=0 "unix://$work/podman.sock" > "$work/podman.log" 2>&1 &
echo $! > "$work/podman.pid"
for _ in $(seq 1 100); do [ -S "$work/podman.sock" ] && break; sleep 0.1; done

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "http://127.0.0.1:$port" > "$work/url"
{
  echo "services:"
  echo "  oauth3-enclave:"
  echo "    image: $tag"
  echo "    ports: !override"
  echo "      - \"127.0.0.1:$port:8787\""
  echo "    volumes: !override"
  echo "      - $agent_socket:/var/run/dstack.sock"
  echo "      - oauth3-data:/var/lib/oauth3-enclave"
  echo "    security_opt:"
  echo "      - unmask=ALL"
} > "$work/override.yml"
echo "report: podman ignores Docker's systempaths=unconfined (its Docker API drops it) and spells it unmask=ALL, added here"
echo "report: image $tag ($(cat "$work/image-id")), port 127.0.0.1:$port, the development guest agent at /var/run/dstack.sock"
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
  echo '    command: ["oauth3-enclave", "serve", "--unsafe-allow-missing-cgroups"]' >> "$work/override.yml"
  echo "report: this host is cgroup v1: jobs in the container run without cgroup limits (cgroups: none); v2 is what a CVM has"
fi

compose up --detach --quiet-pull > "$work/compose.log" 2>&1 || { cat "$work/compose.log"; exit 1; }
for _ in $(seq 1 300); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true)" = 200 ]; then
    echo "url=http://127.0.0.1:$port"
    exit 0
  fi
  sleep 0.2
done
echo "compose-up: the container did not become ready in 60 s; its log:"
compose logs --no-color | tail -40
exit 1
