package volume

import (
	"strings"
	"testing"

	"github.com/moby/moby/api/types/mount"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/errdefs"
)

func TestParseBind(t *testing.T) {
	for raw, want := range map[string]MountPoint{
		"/data":               {Type: mount.TypeVolume, Destination: "/data", RW: true, Driver: DefaultDriver, CopyData: true},
		"name:/data":          {Type: mount.TypeVolume, Name: "name", Destination: "/data", RW: true, Driver: DefaultDriver, CopyData: true},
		"name:/data:ro":       {Type: mount.TypeVolume, Name: "name", Destination: "/data", Mode: "ro", Driver: DefaultDriver, CopyData: true},
		"name:/data:nocopy":   {Type: mount.TypeVolume, Name: "name", Destination: "/data", Mode: "nocopy", RW: true, Driver: DefaultDriver},
		"/host:/c/:ro,z":      {Type: mount.TypeBind, Source: "/host", Destination: "/c", Mode: "ro,z", Propagation: mount.PropagationRPrivate, CreateSource: true},
		"/host:/c:rshared,rw": {Type: mount.TypeBind, Source: "/host", Destination: "/c", Mode: "rshared,rw", RW: true, Propagation: mount.PropagationRShared, CreateSource: true},
	} {
		got, err := ParseBind(raw)
		if err != nil {
			t.Errorf("%s: %v", raw, err)
			continue
		}
		got.Spec = mount.Mount{}
		if got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", raw, got, want)
		}
	}
	for raw, msg := range map[string]string{
		"":              "invalid volume specification: ''",
		"/a:rw":         "invalid volume specification: '/a:rw'",
		"a:b:c:d":       "invalid volume specification: 'a:b:c:d'",
		"/a:/b:bogus":   "invalid mode: bogus",
		"/a:/b:ro,rw":   "invalid mode: ro,rw",
		"foo:bar":       `invalid volume specification: 'foo:bar': invalid mount config for type "volume": invalid mount path: 'bar' mount path must be absolute`,
		"/a:/":          `invalid volume specification: '/a:/': invalid mount config for type "bind": invalid specification: destination can't be '/'`,
		"b@d:/x":        `includes invalid characters for a local volume name`,
		"relative:/x:z": "",
	} {
		_, err := ParseBind(raw)
		if msg == "" {
			if err != nil {
				t.Errorf("%q: %v", raw, err)
			}
			continue
		}
		if err == nil || errdefs.ClassOf(err) != errdefs.InvalidArgument || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: error %v, want %q (invalid argument)", raw, err, msg)
		}
	}
}

func TestParseMount(t *testing.T) {
	dir := t.TempDir()
	mp, err := ParseMount(mount.Mount{Type: mount.TypeBind, Source: dir, Target: "/x/", ReadOnly: true})
	if err != nil || mp.Source != dir || mp.Destination != "/x" || mp.RW || mp.Propagation != mount.PropagationRPrivate || mp.CreateSource {
		t.Fatalf("bind: %+v %v", mp, err)
	}
	for m, msg := range map[*mount.Mount]string{
		{Type: mount.TypeBind, Source: "/nonexistent/x", Target: "/x"}:                           `invalid mount config for type "bind": bind source path does not exist: /nonexistent/x`,
		{Type: mount.TypeBind, Target: "/x"}:                                                     `invalid mount config for type "bind": field Source must not be empty`,
		{Type: mount.TypeVolume, Target: "/x", ReadOnly: true}:                                   "must not set ReadOnly mode when using anonymous volumes",
		{Type: mount.TypeTmpfs, Source: "x", Target: "/x"}:                                       `invalid mount config for type "tmpfs": field Source must not be specified`,
		{Type: "nope", Target: "/x"}:                                                             `invalid mount config for type "nope": mount type unknown`,
		{Type: mount.TypeVolume, Target: "x"}:                                                    "invalid mount path: 'x' mount path must be absolute",
		{Type: mount.TypeBind, Source: dir, Target: "/x", VolumeOptions: &mount.VolumeOptions{}}: "field VolumeOptions must not be specified",
	} {
		if _, err := ParseMount(*m); err == nil || !strings.Contains(err.Error(), msg) || errdefs.ClassOf(err) != errdefs.InvalidArgument {
			t.Errorf("%+v: %v, want %q", *m, err, msg)
		}
	}
	mp, err = ParseMount(mount.Mount{Type: mount.TypeBind, Source: "/nonexistent/y", Target: "/y", BindOptions: &mount.BindOptions{CreateMountpoint: true}})
	if err != nil || !mp.CreateSource {
		t.Fatalf("bind-create-mountpoint: %+v %v", mp, err)
	}
}

func TestVolumesFromAndTmpfs(t *testing.T) {
	if id, rw, err := ParseVolumesFrom("data:ro"); err != nil || id != "data" || rw {
		t.Fatalf("data:ro: %s %v %v", id, rw, err)
	}
	if _, rw, _ := ParseVolumesFrom("data"); !rw {
		t.Fatal("default is rw")
	}
	for _, bad := range []string{"", "data:rshared", "data:nocopy", "data:bogus"} {
		if _, _, err := ParseVolumesFrom(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if got := TmpfsData(&mount.TmpfsOptions{SizeBytes: 64 << 20, Mode: 0o1777}, true); got != "ro,mode=1777,size=64m" {
		t.Fatalf("tmpfs data %q", got)
	}
	if got := TmpfsData(&mount.TmpfsOptions{SizeBytes: 1000}, false); got != "size=1000" {
		t.Fatalf("tmpfs data %q", got)
	}
}

func TestLocalOptions(t *testing.T) {
	for msg, opts := range map[string]map[string]string{
		`invalid option: "foo"`:             {"foo": "1"},
		`missing required option: "device"`: {"type": "tmpfs"},
		`missing required option: "type"`:   {"device": "/dev/sda1"},
		"quota size requested but no quota": {"size": "1g"},
	} {
		if err := validateOptions(opts); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%v: %v, want %q", opts, err, msg)
		}
	}
	if err := validateOptions(map[string]string{"type": "nfs", "device": ":/export", "o": "addr=10.0.0.1,rw,nolock"}); err != nil {
		t.Fatal(err)
	}
	flags, data := parseMountOptions("addr=10.0.0.1,ro,nosuid,nolock,bind")
	if flags != unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_BIND || data != "addr=10.0.0.1,nolock" {
		t.Fatalf("flags %#x data %q", flags, data)
	}
	if got := unescapeMountinfo(`/a\040b`); got != "/a b" {
		t.Fatalf("unescape %q", got)
	}
}
