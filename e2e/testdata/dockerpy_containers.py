"""docker-py 7.1 container workflow against berthd: run, logs, wait, exec, archive, stop, remove, list."""
import io
import sys
import tarfile

import docker

tarball = sys.argv[1]
client = docker.from_env()

with open(tarball, "rb") as f:
    loaded = client.images.load(f.read())
assert [img.tags for img in loaded] == [["busybox:latest"]], loaded

failures = []

# Foreground run: the output comes back as bytes and the container stays (no remove=True).
# docker-py reads the output only when HostConfig.LogConfig.Type (from inspect) is
# json-file or journald, as dockerd reports by default; otherwise run() returns None.
out = client.containers.run("busybox", "echo hi", network_mode="none")
if out != b"hi\n":
    log_type = client.api.inspect_container(client.containers.list(all=True)[0].id)["HostConfig"]["LogConfig"]
    failures.append("containers.run('busybox', 'echo hi') returned %r, want b'hi\\n' (inspect HostConfig.LogConfig=%r; "
                    "docker-py needs Type json-file, dockerd's default)" % (out, log_type))

# Detached run with streamed logs and wait.
c = client.containers.run(
    "busybox",
    command=["sh", "-c", "for i in 1 2 3; do echo line $i; sleep 0.2; done"],
    detach=True,
    network_mode="none",
)
streamed = b"".join(c.logs(stream=True))
assert streamed == b"line 1\nline 2\nline 3\n", streamed
status = c.wait()
assert status["StatusCode"] == 0, status
c.remove()

# Long-running container: exec, archive, stop, remove.
c = client.containers.run("busybox", "sleep 100", detach=True, network_mode="none")
c.reload()
assert c.status == "running", c.status

res = c.exec_run("sh -c 'echo ex; exit 4'")
assert res.exit_code == 4, res
assert res.output == b"ex\n", res

payload = b"berth archive round trip\n"
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as tf:
    info = tarfile.TarInfo("file")
    info.size = len(payload)
    info.mode = 0o644
    tf.addfile(info, io.BytesIO(payload))

try:
    assert c.put_archive("/tmp", buf.getvalue()) is True
    chunks, stat = c.get_archive("/tmp/file")
    assert stat["name"] == "file", stat
    assert stat["size"] == len(payload), stat
    got = tarfile.open(fileobj=io.BytesIO(b"".join(chunks))).extractfile("file").read()
    assert got == payload, got
except docker.errors.APIError as e:
    # 404 "page not found" (no route) or 501 means the endpoints are not there;
    # a 404 "No such container" would be a real failure.
    if e.status_code in (404, 405, 501) and "No such container" not in str(e):
        print("archive endpoints missing: PUT/GET /containers/{id}/archive answered %s: %s" % (e.status_code, e))
        failures.append("archive endpoints missing")
    else:
        raise

# Both containers (the echo one has exited) are listed while they exist.
ids = {x.id for x in client.containers.list(all=True)}
assert c.id in ids, ids
assert c.id in {x.id for x in client.containers.list()}

c.stop(timeout=1)
c.reload()
assert c.status == "exited", c.status
assert c.id not in {x.id for x in client.containers.list()}
assert c.id in {x.id for x in client.containers.list(all=True)}
c.remove()
assert c.id not in {x.id for x in client.containers.list(all=True)}

try:
    client.containers.get(c.id)
    raise AssertionError("get of a removed container must fail")
except docker.errors.NotFound:
    pass

for x in client.containers.list(all=True):
    x.remove(force=True)
assert client.containers.list(all=True) == []

if failures:
    for f in failures:
        print("FAIL:", f)
    sys.exit(1)
print("docker-py container workflow ok")
