/**
 * The container a process belongs to, from its cgroup paths (/proc/<pid>/cgroup).
 *
 * Container runtimes name a container's cgroup after its 64-hex id:
 *
 *     docker (cgroupfs)        /docker/<id>
 *     docker (systemd)         /system.slice/docker-<id>.scope
 *     podman                   /machine.slice/libpod-<id>.scope, /libpod_parent/libpod-<id>
 *     containerd (kubernetes)  /kubepods/burstable/pod<uid>/<id>,
 *                              /kubepods.slice/…/cri-containerd-<id>.scope
 *     cri-o                    /kubepods.slice/…/crio-<id>.scope
 *     containerd (plain)       /<namespace>/<id>
 *
 * One rule covers them all: the last path segment of the form
 * `[<prefix>-]<64 hex>[.scope]`. Podman's `libpod-conmon-<id>` is the monitor
 * process of the container, not the container, and is skipped. Lines of cgroup
 * v2 ("0::…") and v1 hierarchies are all considered; on hybrid hosts the v1
 * controllers hold the container path while "0::" may say "/".
 */
const CONTAINER_SEGMENT = /(?:^|\/)(?:[a-z][a-z0-9_-]*-)?([0-9a-f]{64})(?:\.scope)?(?=\/|$)/g;

/** The container id (64 lowercase hex) in a cgroup file's text, or null. */
export function containerIdFromCgroup(text: string): string | null {
  let found: string | null = null;
  for (const line of text.split('\n')) {
    const path = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
    if (path.length < 64 || path.includes('conmon')) continue;
    CONTAINER_SEGMENT.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = CONTAINER_SEGMENT.exec(path)) !== null) found = m[1]!;
    if (found) return found;
  }
  return found;
}
