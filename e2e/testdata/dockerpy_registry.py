"""docker-py 7.1 against berthd and a local registry: images.push and images.pull, auth_config,
get_registry_data (GET /distribution/{name}/json)."""
import os
import sys

import docker

tarball = sys.argv[1]
registry = os.environ["REGISTRY"]
client = docker.from_env()

with open(tarball, "rb") as f:
    client.images.load(f.read())
img = client.images.get("busybox")
repo = registry + "/py/busybox"
assert img.tag(repo, "v1")

lines = list(client.images.push(repo, tag="v1", stream=True, decode=True))
aux = [l["aux"] for l in lines if "aux" in l]
assert aux and aux[0]["Tag"] == "v1" and aux[0]["Digest"].startswith("sha256:"), lines
assert not [l for l in lines if "error" in l], lines
pushed = aux[0]["Digest"]

client.images.remove(repo + ":v1")
client.images.remove("busybox")
assert client.images.list() == []

pulled = client.images.pull(repo, tag="v1")
assert pulled.id == img.id, (pulled.id, img.id)
assert pulled.attrs["RepoDigests"] == [repo + "@" + pushed], pulled.attrs["RepoDigests"]
assert pulled.tags == [repo + ":v1"], pulled.tags

data = client.images.get_registry_data(repo + ":v1")
assert data.id == pushed, (data.id, pushed)
assert data.has_platform("linux/amd64"), data.attrs
assert not data.has_platform("linux/arm64"), data.attrs
assert data.attrs["Descriptor"]["mediaType"].endswith("manifest.v2+json") or "oci" in data.attrs["Descriptor"]["mediaType"], data.attrs

try:
    client.images.get_registry_data(repo + ":missing")
    raise AssertionError("registry data of a missing tag must fail")
except docker.errors.APIError as e:
    assert "manifest unknown" in str(e), e

try:
    client.images.pull(repo, tag="missing")
    raise AssertionError("pulling a missing tag must fail")
except docker.errors.NotFound as e:
    assert "manifest unknown" in str(e), e
print("ok")
