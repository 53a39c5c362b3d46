"""Every key of the Compose specification, its types, and what stackrig does with it.

``mapped``: becomes stackrig keys (see :mod:`._plan`); ``dropped``: has no meaning for a local
process, said in a note; ``warning``: dropped, but the run may behave differently, said as a
warning; ``error``: cannot be honoured — the message names the service, the key, the file and line,
and the fix.  ``docs/compose.md`` is written from the same table (a test checks they agree).
"""

from __future__ import annotations

__all__ = ["SERVICE_KEYS", "TOP_KEYS", "BUILD_KEYS", "HEALTHCHECK_KEYS", "X_STACKRIG_KEYS", "X_STACKRIG_TOP_KEYS",
           "TYPE_WORDS"]

S, N, INT, B, A, OBJ, Z = "string", "number", "integer", "boolean", "array", "object", "null"

TYPE_WORDS = {S: "a string", N: "a number", INT: "an integer", B: "true or false", A: "a list", OBJ: "a mapping",
              Z: "nothing"}

# key -> (accepted YAML types, treatment, why)
SERVICE_KEYS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "image": ((S,), "mapped", "a known image runs as its kind; a language image with `command` as a process"),
    "build": ((S, OBJ), "mapped", "the app runs natively from its build context (the Dockerfile's WORKDIR, ENV, CMD)"),
    "command": ((S, A, Z), "mapped", "the process's command (known images: the kind reads its flags)"),
    "entrypoint": ((S, A, Z), "mapped", "prefixes the command, as in the container"),
    "environment": ((OBJ, A), "mapped", "the process's env, addresses rewritten (known images: the kind's keys)"),
    "env_file": ((S, A), "mapped", "read like `environment`, before it"),
    "ports": ((A,), "mapped", "each container port gets an allocated port; fixed host ports are never used"),
    "expose": ((A,), "mapped", "container ports other services reach"),
    "volumes": ((A,), "mapped", "bind mounts map container paths to local ones; data volumes are dropped"),
    "working_dir": ((S,), "mapped", "the process's folder, through the bind mounts and the Dockerfile's COPY"),
    "depends_on": ((A, OBJ), "mapped", "`depends_on`: stackrig starts a service once its dependencies are ready"),
    "healthcheck": ((OBJ,), "mapped", "the readiness probe (known images: the kind's native probe)"),
    "profiles": ((A,), "mapped", "a service with profiles runs only when one is active (COMPOSE_PROFILES)"),
    "extends": ((S, OBJ), "mapped", "merged in, as compose does"),
    "links": ((A,), "mapped", "aliases for address rewriting, and a dependency"),
    "container_name": ((S,), "mapped", "an alias for address rewriting"),
    "hostname": ((S,), "mapped", "an alias for address rewriting"),
    "networks": ((A, OBJ), "mapped", "aliases and static addresses become aliases for address rewriting; "
                                   "the networks themselves are dropped"),
    "secrets": ((A,), "mapped", "file secrets: /run/secrets/NAME reads the local file"),
    "scale": ((INT, S), "mapped", "`replicas` of a process (known images: one server)"),
    "deploy": ((OBJ, Z), "mapped", "`replicas` is mapped; resources, placement and policies are dropped"),
    "stop_grace_period": ((S,), "mapped", "`stop_timeout`"),
    "domainname": ((S,), "dropped", "stackrig runs processes on this machine's network"),
    "restart": ((S,), "dropped", "stackrig does not restart services: a crash fails the run, with the log"),
    "stop_signal": ((S,), "dropped", "each kind stops its server the right way (processes: SIGTERM)"),
    "user": ((S, INT), "dropped", "processes run as you (servers that refuse root: an unprivileged account)"),
    "labels": ((OBJ, A), "dropped", "no containers to label"),
    "label_file": ((S, A), "dropped", "no containers to label"),
    "annotations": ((OBJ, A), "dropped", "no containers to annotate"),
    "logging": ((OBJ,), "dropped", "every service logs to .stackrig/runs/<run>/logs (`stackrig logs`)"),
    "tty": ((B, S), "dropped", "services run without a terminal"),
    "stdin_open": ((B, S), "dropped", "services run without a terminal"),
    "init": ((B, S), "dropped", "stackrig supervises the process tree itself"),
    "attach": ((B, S), "dropped", "stackrig captures every service's log"),
    "platform": ((S,), "dropped", "the local binaries are this machine's"),
    "pull_policy": ((S,), "dropped", "nothing is pulled"),
    "pull_refresh_after": ((S,), "dropped", "nothing is pulled"),
    "read_only": ((B, S), "dropped", "no container filesystem"),
    "shm_size": ((N, S), "dropped", "resource limits do not apply to local processes"),
    "tmpfs": ((S, A), "dropped", "run data is on tmpfs already when the machine has it"),
    "ulimits": ((OBJ,), "dropped", "resource limits do not apply to local processes"),
    "mem_limit": ((N, S), "dropped", "resource limits do not apply to local processes"),
    "mem_reservation": ((N, S), "dropped", "resource limits do not apply to local processes"),
    "mem_swappiness": ((N, S), "dropped", "resource limits do not apply to local processes"),
    "memswap_limit": ((N, S), "dropped", "resource limits do not apply to local processes"),
    "cpus": ((N, S), "dropped", "resource limits do not apply to local processes"),
    "cpu_count": ((N, S), "dropped", "resource limits do not apply to local processes"),
    "cpu_percent": ((N, S), "dropped", "resource limits do not apply to local processes"),
    "cpu_shares": ((N, S), "dropped", "resource limits do not apply to local processes"),
    "cpu_quota": ((N, S), "dropped", "resource limits do not apply to local processes"),
    "cpu_period": ((N, S), "dropped", "resource limits do not apply to local processes"),
    "cpu_rt_period": ((N, S), "dropped", "resource limits do not apply to local processes"),
    "cpu_rt_runtime": ((N, S), "dropped", "resource limits do not apply to local processes"),
    "cpuset": ((S,), "dropped", "resource limits do not apply to local processes"),
    "blkio_config": ((OBJ,), "dropped", "resource limits do not apply to local processes"),
    "pids_limit": ((N, S), "dropped", "resource limits do not apply to local processes"),
    "oom_kill_disable": ((B, S), "dropped", "resource limits do not apply to local processes"),
    "oom_score_adj": ((INT, S), "dropped", "resource limits do not apply to local processes"),
    "storage_opt": ((OBJ,), "dropped", "no container filesystem"),
    "cgroup": ((S,), "dropped", "no container cgroups"),
    "cgroup_parent": ((S,), "dropped", "no container cgroups"),
    "runtime": ((S,), "dropped", "no container runtime"),
    "isolation": ((S,), "dropped", "no container runtime"),
    "security_opt": ((A,), "dropped", "no container security profile"),
    "cap_add": ((A,), "warning", "local processes get no extra Linux capabilities"),
    "cap_drop": ((A,), "dropped", "local processes run with your privileges"),
    "group_add": ((A,), "dropped", "processes run as you"),
    "dns": ((S, A), "dropped", "this machine's resolver is used"),
    "dns_opt": ((A,), "dropped", "this machine's resolver is used"),
    "dns_search": ((S, A), "dropped", "this machine's resolver is used"),
    "extra_hosts": ((A, OBJ), "warning", "not applied to this machine's resolver; host.docker.internal becomes "
                                       "127.0.0.1"),
    "external_links": ((A,), "warning", "containers outside the compose file are not reachable by name"),
    "mac_address": ((S,), "dropped", "no container network"),
    "sysctls": ((OBJ, A), "warning", "kernel parameters are not changed for local processes"),
    "credential_spec": ((OBJ,), "dropped", "Windows containers only"),
    "configs": ((A,), "warning", "configs are not mounted; bind-mount the file instead"),
    "volumes_from": ((A,), "warning", "volumes are not shared between local processes"),
    "develop": ((OBJ, Z), "dropped", "`docker compose watch` only"),
    "ipc": ((S,), "warning", "no IPC namespace to share"),
    "pid": ((S, Z), "warning", "no PID namespace to share"),
    "uts": ((S,), "dropped", "no UTS namespace"),
    "userns_mode": ((S,), "dropped", "no user namespace"),
    "post_start": ((A,), "warning", "lifecycle hooks are not run"),
    "pre_stop": ((A,), "warning", "lifecycle hooks are not run"),
    "gw_priority": ((N,), "dropped", "no container network"),
    "network_mode": ((S,), "error", "host, service: and container: network namespaces cannot be honoured"),
    "privileged": ((B, S), "error", "a local process gets no container privileges"),
    "devices": ((A,), "error", "devices cannot be mapped into a local process"),
    "device_cgroup_rules": ((A,), "error", "devices cannot be mapped into a local process"),
    "gpus": ((A, S), "error", "GPUs cannot be reserved for a local process"),
    "provider": ((OBJ,), "error", "a provider service is managed by a compose plugin"),
    "models": ((A, OBJ), "error", "AI models are served by Docker Model Runner"),
    "use_api_socket": ((B,), "error", "there is no container engine socket"),
}

TOP_KEYS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "version": ((S, N), "dropped", "obsolete in the Compose specification"),
    "name": ((S,), "dropped", "runs are named by stackrig (.stackrig/runs/<run>)"),
    "services": ((OBJ,), "mapped", "each service becomes a [services.NAME] table"),
    "networks": ((OBJ, Z), "dropped", "services reach each other through rewritten 127.0.0.1 addresses"),
    "volumes": ((OBJ, Z), "dropped", "data volumes: every run starts from the kind's prepared data"),
    "secrets": ((OBJ, Z), "mapped", "file secrets are read from their files"),
    "configs": ((OBJ, Z), "dropped", "configs are not mounted"),
    "include": ((A,), "error", "included compose files are not read yet"),
    "models": ((OBJ, Z), "error", "AI models are served by Docker Model Runner"),
}

BUILD_KEYS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "context": ((S,), "mapped", "the folder the app runs from"),
    "dockerfile": ((S,), "mapped", "read for WORKDIR, ENV, EXPOSE, CMD and ENTRYPOINT"),
    "dockerfile_inline": ((S,), "mapped", "read like a Dockerfile"),
    "args": ((OBJ, A), "mapped", "substituted where the Dockerfile uses them outside RUN"),
    "target": ((S,), "mapped", "the stage whose WORKDIR, ENV and CMD apply"),
    "ssh": ((OBJ, A), "dropped", "RUN steps are not executed"),
    "secrets": ((A,), "dropped", "RUN steps are not executed"),
    "cache_from": ((A,), "dropped", "nothing is built"),
    "cache_to": ((A,), "dropped", "nothing is built"),
    "no_cache": ((B, S), "dropped", "nothing is built"),
    "pull": ((B, S), "dropped", "nothing is pulled"),
    "labels": ((OBJ, A), "dropped", "no image to label"),
    "tags": ((A,), "dropped", "no image to tag"),
    "platforms": ((A,), "dropped", "the local binaries are this machine's"),
    "network": ((S,), "dropped", "RUN steps are not executed"),
    "shm_size": ((INT, S), "dropped", "nothing is built"),
    "extra_hosts": ((A, OBJ), "dropped", "RUN steps are not executed"),
    "isolation": ((S,), "dropped", "nothing is built"),
    "privileged": ((B, S), "dropped", "RUN steps are not executed"),
    "ulimits": ((OBJ,), "dropped", "nothing is built"),
    "entitlements": ((A,), "dropped", "RUN steps are not executed"),
    "additional_contexts": ((OBJ, A), "warning", "COPY --from another context is not mapped"),
}

HEALTHCHECK_KEYS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "test": ((S, A), "mapped", "the readiness probe"),
    "interval": ((S,), "dropped", "stackrig polls every few milliseconds"),
    "timeout": ((S,), "mapped", "part of `start_timeout`"),
    "retries": ((N, S), "mapped", "part of `start_timeout`"),
    "start_period": ((S,), "mapped", "part of `start_timeout`"),
    "start_interval": ((S,), "dropped", "stackrig polls every few milliseconds"),
    "disable": ((B, S), "mapped", "no probe from the healthcheck"),
}

# x-stackrig on a service: key -> (types, meaning)
X_STACKRIG_KEYS: dict[str, tuple[tuple[str, ...], str]] = {
    "skip": ((B,), "leave the service out of stackrig runs"),
    "command": ((S, A), "the command that runs the service natively (stackrig syntax: ${python}, ${self.port})"),
    "cwd": ((S,), "its folder, relative to the compose file"),
    "port": ((S, B), "the variable that carries its listen port (PORT, APP_PORT, ...), or false for none"),
    "build": ((S, A), "a local build step (`build` of a process), run once and cached"),
    "build_inputs": ((A,), "files whose content re-runs the build"),
    "ready": ((OBJ,), "the readiness probe, as in stackrig.toml: { http = \"/health\" }"),
    "env": ((OBJ,), "more variables (stackrig syntax), after the address rewriting"),
    "job": ((B,), "a one-off job: ready once it exited 0"),
    "start_timeout": ((N,), "seconds to become ready"),
}

X_STACKRIG_TOP_KEYS: dict[str, tuple[tuple[str, ...], str]] = {
    "profiles": ((A,), "profiles active for stackrig runs (besides COMPOSE_PROFILES)"),
    "data_dir": ((S,), "[stackrig] data_dir"),
    "keep_data": ((B,), "[stackrig] keep_data"),
    "faults": ((B,), "[stackrig] faults"),
}
