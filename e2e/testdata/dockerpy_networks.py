"""docker-py 7.1 network workflow against berthd: networks.create/list/get/remove/prune, connect and disconnect."""
import sys

import docker

tarball = sys.argv[1]
client = docker.from_env()

with open(tarball, "rb") as f:
    client.images.load(f.read())

ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet="10.89.3.0/24", gateway="10.89.3.1")])
net = client.networks.create("pynet", driver="bridge", ipam=ipam, labels={"app": "py"})
assert net.name == "pynet" and len(net.id) == 64, net.attrs
assert net.attrs["Driver"] == "bridge" and net.attrs["Labels"] == {"app": "py"}, net.attrs
assert net.attrs["IPAM"]["Config"][0]["Subnet"] == "10.89.3.0/24", net.attrs["IPAM"]
assert net.attrs["IPAM"]["Config"][0]["Gateway"] == "10.89.3.1", net.attrs["IPAM"]

assert client.networks.get("pynet").id == net.id
assert client.networks.get(net.id[:12]).name == "pynet"
assert [n.name for n in client.networks.list(filters={"label": "app=py"})] == ["pynet"]
assert [n.name for n in client.networks.list(names=["pynet"])] == ["pynet"]
assert {"bridge", "host", "none", "pynet"} <= {n.name for n in client.networks.list()}
assert [n.name for n in client.networks.list(filters={"type": "custom"})] == ["pynet"]

# A duplicate name is a conflict; a missing network is NotFound.
try:
    client.networks.create("pynet")
    raise AssertionError("duplicate network name accepted")
except docker.errors.APIError as e:
    assert e.status_code == 409 and "network with name pynet already exists" in str(e), e
try:
    client.networks.get("nope")
    raise AssertionError("get of a missing network succeeded")
except docker.errors.NotFound as e:
    assert "network nope not found" in str(e), e

# A running container is connected with an address and an alias, then disconnected.
c = client.containers.run("busybox", "sleep 100", detach=True)
net.connect(c, ipv4_address="10.89.3.9", aliases=["pyalias"])
net.reload()
assert [x.id for x in net.containers] == [c.id], net.attrs["Containers"]
c.reload()
ep = c.attrs["NetworkSettings"]["Networks"]["pynet"]
assert ep["IPAddress"] == "10.89.3.9" and "pyalias" in (ep["Aliases"] or []), ep
code, out = c.exec_run("ip -4 -o addr show")
assert code == 0 and b"inet 10.89.3.9/24" in out, out

try:
    net.remove()
    raise AssertionError("removing a network in use succeeded")
except docker.errors.APIError as e:
    assert e.status_code in (403, 409) and "active endpoints" in str(e), e

net.disconnect(c)
net.reload()
assert net.containers == [], net.attrs["Containers"]
c.reload()
assert "pynet" not in c.attrs["NetworkSettings"]["Networks"], c.attrs["NetworkSettings"]["Networks"]
c.remove(force=True)

# Prune removes unused custom networks only.
client.networks.create("pyunused")
report = client.networks.prune(filters={"label": "app=py"})
assert report["NetworksDeleted"] == ["pynet"], report
report = client.networks.prune()
assert report["NetworksDeleted"] == ["pyunused"], report
assert {n.name for n in client.networks.list()} == {"bridge", "host", "none"}

client.networks.create("pylast").remove()
assert client.networks.list(names=["pylast"]) == []
print("ok")
