#!/bin/sh
# The image's entrypoint: makes this container's cgroup v2 tree writable, gives up the two capabilities only
# that needs, then runs the command (the daemon) as process 1, so SIGTERM reaches it and it shuts down gracefully.
#
# Docker mounts cgroup2 read-only at /sys/fs/cgroup in every container that is not privileged. The daemon
# creates a cgroup per job below its own (the only real bound on a job's memory, and its pids and cpu),
# so it needs that mount read-write. With `cgroup: private` (docker-compose.yml) the mount shows only
# this container's own subtree, so remounting it grants nothing over the CVM's other cgroups.
# Remounting needs CAP_SYS_ADMIN. On a cgroup v1 host, or where the mount is already writable, it does nothing.
#
# Then CAP_SYS_ADMIN and CAP_SETPCAP (which dropping needs) leave the bounding set, so neither the daemon nor
# anything it starts can hold them again: jobs get their namespaces from an unprivileged user namespace
# (OAUTH3_USER_NAMESPACE=required), and the daemon keeps only CAP_SETUID, CAP_SETGID and CAP_CHOWN.
set -eu
cgroup=/sys/fs/cgroup
if [ "$(stat -fc %T "$cgroup" 2>/dev/null || true)" = cgroup2fs ] && ! [ -w "$cgroup/cgroup.subtree_control" ]; then
  mount -o remount,rw "$cgroup"
fi
# setpriv reports success even when it could not drop (without CAP_SETPCAP), so look at the result first.
drop=--bounding-set=-sys_admin,-setpcap
bounding=$(setpriv "$drop" -- sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)
if [ $((0x$bounding & 0x200100)) -ne 0 ]; then  # bit 21 CAP_SYS_ADMIN, bit 8 CAP_SETPCAP
  echo "entrypoint: cannot drop CAP_SYS_ADMIN and CAP_SETPCAP (bounding set $bounding); grant CAP_SETPCAP" >&2
  exit 1
fi
exec setpriv "$drop" -- "$@"
