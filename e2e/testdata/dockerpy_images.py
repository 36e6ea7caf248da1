"""docker-py 7.1 image workflow against berthd: from_env, images.load/list/get/remove, tag, errors."""
import sys

import docker

tarball = sys.argv[1]
client = docker.from_env()

version = client.version()
assert version["ApiVersion"] == "1.51", version
assert client.info()["Driver"] == "overlay2"
assert client.ping()

with open(tarball, "rb") as f:
    loaded = client.images.load(f.read())
assert [img.tags for img in loaded] == [["busybox:latest"]], loaded

listed = client.images.list()
assert len(listed) == 1 and listed[0].tags == ["busybox:latest"], listed

img = client.images.get("busybox")
assert img.attrs["Config"]["Cmd"] == ["sh"], img.attrs["Config"]
assert img.id.startswith("sha256:") and len(img.id) == 71

assert img.tag("example.com/py/app", "v1")
assert sorted(client.images.get(img.id).tags) == ["busybox:latest", "example.com/py/app:v1"]
assert [i.id for i in client.images.list(filters={"reference": "example.com/*/*"})] == [img.id]

history = img.history()
assert history[0]["Id"] == img.id, history

try:
    client.images.remove(img.id)
    raise AssertionError("removing an ID with names in two repositories must need force")
except docker.errors.APIError as e:
    assert e.status_code == 409, e

client.images.remove("example.com/py/app:v1")
client.images.remove("busybox")
assert client.images.list() == []

try:
    client.images.get("busybox")
    raise AssertionError("get of a removed image must fail")
except docker.errors.ImageNotFound:
    pass

print("docker-py image workflow ok")
