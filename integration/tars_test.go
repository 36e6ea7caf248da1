package integration

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"
)

// entry is one member of a tar built by a test.
type entry struct {
	name     string
	typ      byte
	body     string
	linkname string
	mode     int64
}

func file(name, body string) entry {
	return entry{name: name, typ: tar.TypeReg, body: body, mode: 0o644}
}
func dir(name string) entry { return entry{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, target string) entry {
	return entry{name: name, typ: tar.TypeSymlink, linkname: target}
}
func hardlink(name, target string) entry {
	return entry{name: name, typ: tar.TypeLink, linkname: target}
}
func chardev(name string) entry { return entry{name: name, typ: tar.TypeChar, mode: 0o666} }

func buildTar(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(1700000000, 0)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.linkname, Mode: e.mode, ModTime: mtime, Size: int64(len(e.body))}
		if e.typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// legacyImage is an image for the pre-OCI docker save layout: <config>.json, <n>/layer.tar, manifest.json.
type legacyImage struct {
	tags   []string
	layers [][]byte
	cmd    []string
	labels map[string]string
}

// legacySave builds a docker-save tar of imgs and returns it with each image's ID.
func legacySave(t testing.TB, imgs ...legacyImage) ([]byte, []string) {
	t.Helper()
	var members []entry
	var manifest []map[string]any
	var ids []string
	for i, img := range imgs {
		var diffIDs, layerPaths []string
		for j, l := range img.layers {
			p := "img" + string(rune('a'+i)) + "layer" + string(rune('a'+j)) + "/layer.tar"
			members = append(members, file(p, string(l)))
			diffIDs = append(diffIDs, "sha256:"+sha(l))
			layerPaths = append(layerPaths, p)
		}
		cfg := map[string]any{
			"architecture": "amd64", "os": "linux", "created": "2024-05-01T10:00:00Z",
			"config": map[string]any{"Cmd": img.cmd, "Labels": img.labels},
			"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
		}
		raw, _ := json.Marshal(cfg)
		id := sha(raw)
		ids = append(ids, "sha256:"+id)
		members = append(members, file(id+".json", string(raw)))
		manifest = append(manifest, map[string]any{"Config": id + ".json", "RepoTags": img.tags, "Layers": layerPaths})
	}
	raw, _ := json.Marshal(manifest)
	members = append(members, file("manifest.json", string(raw)))
	return buildTar(t, members...), ids
}
