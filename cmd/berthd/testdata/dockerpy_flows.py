"""docker-py's common flows against the engine at argv[1], with the busybox
image argv[2] from the registry argv[3], which wants the login argv[4]
argv[5]; prints OK, or fails naming what differed from dockerd."""
import io
import os
import sys
import time

import docker

client = docker.DockerClient(base_url=sys.argv[1], version="auto", timeout=60)
image = sys.argv[2]
registry, user, password = sys.argv[3], sys.argv[4], sys.argv[5]
# The registry wants a login; docker-py sends it with pulls and pushes.
client.login(username=user, password=password, registry=registry)


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
    # Pull, build and push, after the login above.
    check("images.pull", image in client.images.pull(image).tags, True)
    tag = registry + "/py/built:1"
    built, _ = client.images.build(fileobj=io.BytesIO(("FROM " + image + "\nRUN echo built > /built\n").encode()), tag=tag, rm=True)
    check("images.build", built.tags, [tag])
    pushed = client.images.push(registry + "/py/built", tag="1")
    check("push after login", '"error"' in pushed, False)
    # A network of one's own: its containers find each other by name.
    net = client.networks.create("pynet", driver="bridge", labels={"from": "docker-py"})
    named = client.containers.run(image, "sleep 300", detach=True, network="pynet", name="pynamed")
    named.reload()
    ip = named.attrs["NetworkSettings"]["Networks"]["pynet"]["IPAddress"]
    check("name resolution on pynet", ip.encode() in client.containers.run(image, "nslookup pynamed", network="pynet", remove=True), True)
    net.connect(other, aliases=["otter"])
    net.reload()
    check("network's containers", sorted(c.id for c in net.containers), sorted([named.id, other.id]))
    net.disconnect(other)
    named.remove(force=True)
    net.remove()
    check("networks after remove", [n.name for n in client.networks.list(names=["pynet"])], [])
    # A named volume keeps what one container wrote for the next.
    vol = client.volumes.create("pyvol", labels={"from": "docker-py"})
    client.containers.run(image, ["sh", "-c", "echo kept > /v/f"], volumes={"pyvol": {"bind": "/v", "mode": "rw"}}, remove=True)
    check("a named volume", client.containers.run(image, "cat /v/f", volumes={"pyvol": {"bind": "/v", "mode": "rw"}}, remove=True), b"kept\n")
    vol.remove()
finally:
    # kill returns once the container has stopped: remove needs no force.
    for c in (web, other):
        c.kill()
        c.remove()
print("OK")
