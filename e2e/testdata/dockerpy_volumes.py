"""docker-py 7.1 volume workflow against berthd: volumes.create/get/list/prune/remove, containers.run(volumes=...)."""
import sys

import docker

tarball = sys.argv[1]
client = docker.from_env()

with open(tarball, "rb") as f:
    client.images.load(f.read())

vol = client.volumes.create(name="pyvol", labels={"app": "py"})
assert vol.name == "pyvol", vol.attrs
assert vol.attrs["Driver"] == "local" and vol.attrs["Labels"] == {"app": "py"}, vol.attrs
assert client.volumes.get("pyvol").attrs["Mountpoint"].endswith("/volumes/pyvol/_data")
assert [v.name for v in client.volumes.list(filters={"label": "app=py"})] == ["pyvol"]

# Data written by one container is read by the next; binds given as a dict work too.
client.containers.run("busybox", "sh -c 'echo from-py > /data/f'", volumes={"pyvol": {"bind": "/data", "mode": "rw"}},
                      remove=True, network_mode="none")
out = client.containers.run("busybox", "cat /data/f", volumes=["pyvol:/data:ro"], remove=True, network_mode="none")
assert out == b"from-py\n", out

# A read-only mount refuses writes.
try:
    client.containers.run("busybox", "sh -c 'echo x > /data/g'", volumes={"pyvol": {"bind": "/data", "mode": "ro"}},
                          remove=True, network_mode="none")
    raise AssertionError("write to a read-only volume succeeded")
except docker.errors.ContainerError as e:
    assert b"Read-only file system" in (e.stderr or b""), e.stderr

# In use: removal is refused with 409.
c = client.containers.run("busybox", "sleep 100", volumes=["pyvol:/data"], detach=True, network_mode="none")
inspect = client.api.inspect_container(c.id)
assert [(m["Type"], m["Name"], m["Destination"], m["RW"]) for m in inspect["Mounts"]] == [("volume", "pyvol", "/data", True)], inspect["Mounts"]
try:
    vol.remove()
    raise AssertionError("removing a volume in use succeeded")
except docker.errors.APIError as e:
    assert e.status_code == 409 and "in use" in str(e), e
c.remove(force=True)

# Errors come back as docker's.
try:
    client.containers.create("busybox", "true", mounts=[docker.types.Mount("/x", "/nonexistent/src", type="bind")])
    raise AssertionError("bind of a missing source succeeded")
except docker.errors.APIError as e:
    assert e.status_code == 400 and "bind source path does not exist: /nonexistent/src" in str(e), e

# Anonymous volumes: pruned by default, named ones only with all.
anon = client.containers.create("busybox", "true", volumes=["/anon"])
anon_name = client.api.inspect_container(anon.id)["Mounts"][0]["Name"]
anon.remove()
report = client.volumes.prune()
assert report["VolumesDeleted"] == [anon_name], report
report = client.volumes.prune(filters={"all": "true"})
assert report["VolumesDeleted"] == ["pyvol"], report
assert client.volumes.list() == [], client.volumes.list()
print("ok")
