"""docker-py's common flows against the engine at argv[1], with the busybox
image argv[2]; prints OK, or fails naming what differed from dockerd."""
import os
import sys
import time

import docker

client = docker.DockerClient(base_url=sys.argv[1], version="auto", timeout=60)
image = sys.argv[2]


def check(what, got, want):
    if got != want:
        sys.exit(f"{what}: got {got!r}, want {want!r}")


# run without detach returns the output (docker-py reads the log type).
check("run echo", client.containers.run(image, "echo hi", remove=True), b"hi\n")

web = client.containers.run(image, ["sh", "-c", "echo started; exec sleep 300"], detach=True, labels={"app": "web", "tier": "front"})
other = client.containers.run(image, "sleep 300", detach=True, labels={"app": "web"})
try:
    # Logs read right after start hold what the process wrote first.
    for _ in range(100):
        if web.logs() == b"started\n":
            break
        time.sleep(0.05)
    check("logs after start", web.logs(), b"started\n")
    # stats(stream=False) sends stream=False and must end.
    stats = web.stats(stream=False)
    check("stats has cpu_stats", "cpu_stats" in stats, True)
    # Label filters AND, as dockerd's.
    check("label filter", [c.id for c in client.containers.list(filters={"label": ["app=web", "tier=front"]})], [web.id])
    check("exec", tuple(web.exec_run("echo fromexec")), (0, b"fromexec\n"))
    check("exec with a tty", tuple(web.exec_run("echo tty", tty=True)), (0, b"tty\r\n"))
    check("exec as an unknown user", web.exec_run("true", user="nosuchuser").exit_code, 126)
    check("exec of a missing command", web.exec_run("nosuchcommand").exit_code, 127)
    # What the registry says of the image, without pulling it
    # (/distribution/{name}/json).
    rd = client.images.get_registry_data(image)
    check("registry data's digest", rd.id.startswith("sha256:"), True)
    check("registry data's platform", rd.has_platform("linux/" + {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)), True)
    # The detach keys end an attach and leave the container running.
    cat = client.containers.run(image, "cat", detach=True, stdin_open=True)
    att = client.api.attach_socket(cat.id, params={"stdin": 1, "stdout": 1, "stream": 1, "detachKeys": "ctrl-x"})._sock
    att.settimeout(20)
    att.sendall(b"hi\n\x18")
    while att.recv(4096):
        pass
    cat.reload()
    check("a container after its attach was detached", cat.status, "running")
    cat.remove(force=True)
    # An exec whose stdin the client keeps open ends when its process does
    # (compose exec -T reads the socket to its end; it used to hang).
    eid = client.api.exec_create(web.id, ["echo", "sock"], stdin=True)["Id"]
    sock = client.api.exec_start(eid, socket=True)._sock
    sock.settimeout(20)
    got = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            break
        got += chunk
    check("exec over a socket whose stdin stays open", got[8:], b"sock\n")
    check("inspect log type", web.attrs["HostConfig"]["LogConfig"]["Type"], "json-file")
    # A load that fails raises, with the engine's words.
    try:
        client.images.load(b"not a tar archive")
        sys.exit("images.load of a broken archive: no error raised")
    except docker.errors.APIError:
        pass
    except docker.errors.ImageLoadError:
        pass
finally:
    # kill returns once the container has stopped: remove needs no force.
    for c in (web, other):
        c.kill()
        c.remove()
print("OK")
