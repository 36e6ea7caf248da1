"""docker-py 7.1 builds against berthd: images.build(fileobj=...), path= with a context, cache, errors."""
import io
import os
import sys
import tempfile

import docker

client = docker.from_env()
with open(sys.argv[1], "rb") as f:
    client.images.load(f.read())

dockerfile = b"FROM busybox\nRUN echo built-by-py > /py\nLABEL via=docker-py\nCMD [\"cat\", \"/py\"]\n"
img, logs = client.images.build(fileobj=io.BytesIO(dockerfile), tag="py/built:1", rm=True)
logs = list(logs)
assert any("built-by-py" in l.get("stream", "") for l in logs), logs
assert img.tags == ["py/built:1"], img.tags
assert img.labels["via"] == "docker-py", img.labels
assert client.containers.run("py/built:1", remove=True) == b"built-by-py\n"

again, logs = client.images.build(fileobj=io.BytesIO(dockerfile), tag="py/built:2")
assert again.id == img.id, (again.id, img.id)
assert sum("Using cache" in l.get("stream", "") for l in logs) == 3, list(logs)

with tempfile.TemporaryDirectory() as ctx:
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write("FROM busybox\nARG WHO\nCOPY data.txt /data.txt\nRUN echo $WHO >> /data.txt\n")
    with open(os.path.join(ctx, "data.txt"), "w") as f:
        f.write("context\n")
    img, _ = client.images.build(path=ctx, tag="py/ctx", buildargs={"WHO": "arg"})
    out = client.containers.run("py/ctx", ["cat", "/data.txt"], remove=True)
    assert out == b"context\narg\n", out

try:
    client.images.build(fileobj=io.BytesIO(b"FROM busybox\nRUN exit 7\n"))
    raise AssertionError("a failing RUN built")
except docker.errors.BuildError as e:
    assert "returned a non-zero code: 7" in str(e), str(e)

print("ok")
