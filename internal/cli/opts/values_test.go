package opts

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/mount"
	"github.com/spf13/pflag"
)

func TestMemBytes(t *testing.T) {
	for in, want := range map[string]int64{"512": 512, "64m": 64 << 20, "1.5g": 3 << 29, "2k": 2048, "1GB": 1 << 30} {
		var m MemBytes
		if err := m.Set(in); err != nil || m.Value() != want {
			t.Errorf("%q: %d %v", in, m.Value(), err)
		}
	}
	var m MemBytes
	if err := m.Set("bad"); err == nil || err.Error() != "invalid size: 'bad'" {
		t.Errorf("bad: %v", err)
	}
	if err := m.Set("-1"); err == nil {
		t.Error("-1 must be refused by MemBytes")
	}
	if m.String() != "0" || m.Type() != "bytes" {
		t.Errorf("zero shows %q", m.String())
	}
	var s MemSwapBytes
	if err := s.Set("-1"); err != nil || s.Value() != -1 {
		t.Errorf("swap -1: %v", err)
	}
	if err := s.Set("1g"); err != nil || s.Value() != 1<<30 {
		t.Errorf("swap 1g: %v", err)
	}
}

func TestNanoCPUs(t *testing.T) {
	for in, want := range map[string]int64{"1": 1e9, "1.5": 15e8, "0.001": 1e6, "3/4": 75e7} {
		var c NanoCPUs
		if err := c.Set(in); err != nil || c.Value() != want {
			t.Errorf("%q: %d %v", in, c.Value(), err)
		}
	}
	var c NanoCPUs
	if err := c.Set("abc"); err == nil || err.Error() != "failed to parse abc as a rational number" {
		t.Errorf("abc: %v", err)
	}
	if err := c.Set("0.0000000001"); err == nil || err.Error() != "value is too precise" {
		t.Errorf("too precise: %v", err)
	}
	if c.String() != "" {
		t.Errorf("zero shows %q", c.String())
	}
	_ = c.Set("2.5")
	if c.String() != "2.500" || c.Type() != "decimal" {
		t.Errorf("shows %q", c.String())
	}
}

func TestUlimits(t *testing.T) {
	u := NewUlimits()
	for _, v := range []string{"nofile=1024:2048", "nproc=100", "nofile=10:20"} {
		if err := u.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	got := u.Values()
	if len(got) != 2 || got[0].Name != "nofile" || got[0].Soft != 10 || got[0].Hard != 20 || got[1].Name != "nproc" || got[1].Soft != 100 || got[1].Hard != 100 {
		t.Errorf("ulimits %+v %+v", got[0], got[1])
	}
	if u.String() != "[nofile=10:20 nproc=100:100]" {
		t.Errorf("string %q", u.String())
	}
	for _, bad := range []string{"nofile=a", "nofile", "bogus=1", "nofile=2:1"} {
		if err := NewUlimits().Set(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if NewUlimits().String() != "[]" {
		t.Error("empty ulimits show [] in help")
	}
}

func TestThrottleAndWeightDevices(t *testing.T) {
	bps := NewThrottleBps()
	if err := bps.Set("/dev/sda:1mb"); err != nil {
		t.Fatal(err)
	}
	if err := bps.Set("/dev/sdb:1024"); err != nil {
		t.Fatal(err)
	}
	v := bps.Values()
	if v[0].Path != "/dev/sda" || v[0].Rate != 1<<20 || v[1].Rate != 1024 {
		t.Errorf("bps %v %v", v[0], v[1])
	}
	err := bps.Set("/dev/sda:xx")
	if err == nil || err.Error() != "invalid rate for device: /dev/sda:xx. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb" {
		t.Errorf("bad rate: %v", err)
	}
	if err := bps.Set("sda:1mb"); err == nil || err.Error() != "bad format: sda:1mb" {
		t.Errorf("bad path: %v", err)
	}
	iops := NewThrottleIOps()
	if err := iops.Set("/dev/sda:300"); err != nil || iops.Values()[0].Rate != 300 {
		t.Errorf("iops: %v", err)
	}
	if err := iops.Set("/dev/sda:1k"); err == nil || !strings.HasPrefix(err.Error(), "invalid rate for device: /dev/sda:1k. The correct format is <device-path>:<number>. Number") {
		t.Errorf("iops unit: %v", err)
	}
	if NewThrottleIOps().String() != "[]" {
		t.Error("empty list shows [] in help")
	}
	var w WeightDevices
	if err := w.Set("/dev/sda:200"); err != nil || w.Values()[0].Weight != 200 {
		t.Errorf("weight: %v", err)
	}
	for _, bad := range []string{"/dev/sda:5", "/dev/sda:1001", "/dev/sda:x"} {
		if err := w.Set(bad); err == nil || err.Error() != "invalid weight for device: "+bad {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestMapAndLists(t *testing.T) {
	m := NewMap(ValidateSysctl)
	if err := m.Set("net.ipv4.ip_forward=1"); err != nil {
		t.Fatal(err)
	}
	if err := m.Set("kernel.shmmax=1"); err != nil {
		t.Fatal(err)
	}
	if err := m.Set("kernel.hostname=x"); err == nil || err.Error() != "sysctl 'kernel.hostname=x' is not allowed" {
		t.Errorf("sysctl: %v", err)
	}
	if !reflect.DeepEqual(m.Values(), map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "1"}) {
		t.Errorf("map %v", m.Values())
	}
	if NewMap(nil).String() != "map[]" || NewMap(nil).Values() != nil {
		t.Error("empty map")
	}

	l := NewNormalizedList(ValidateAttach)
	if err := l.Set("STDIN"); err != nil || l.Values()[0] != "stdin" {
		t.Errorf("attach: %v %v", err, l.Values())
	}
	if err := l.Set("bogus"); err == nil || err.Error() != "valid streams are STDIN, STDOUT and STDERR" {
		t.Errorf("attach bogus: %v", err)
	}
	if l.Len() != 1 || l.String() != "[stdin]" {
		t.Errorf("list %d %q", l.Len(), l.String())
	}
}

func TestValidators(t *testing.T) {
	t.Setenv("BERTH_TEST_PASS", "through")
	cases := []struct {
		fn      func(string) (string, error)
		in, out string
		err     string
	}{
		{ValidateEnv, "A=1", "A=1", ""},
		{ValidateEnv, "BERTH_TEST_PASS", "BERTH_TEST_PASS=through", ""},
		{ValidateEnv, "BERTH_TEST_UNSET_XYZ", "BERTH_TEST_UNSET_XYZ", ""},
		{ValidateEnv, "=x", "", "invalid environment variable: =x"},
		{ValidateLabel, "a=b", "a=b", ""},
		{ValidateLabel, "flag", "flag", ""},
		{ValidateLabel, "=b", "", "invalid label '=b': empty name"},
		{ValidateExtraHost, "db:10.0.0.2", "db:10.0.0.2", ""},
		{ValidateExtraHost, "db=10.0.0.2", "db:10.0.0.2", ""},
		{ValidateExtraHost, "v6:[::1]", "v6:::1", ""},
		{ValidateExtraHost, "gw:host-gateway", "gw:host-gateway", ""},
		{ValidateExtraHost, "bad", "", `bad format for add-host: "bad"`},
		{ValidateExtraHost, "h:999.1.1.1", "", `invalid IP address in add-host: "999.1.1.1"`},
		{ValidateIPAddress, "8.8.8.8", "8.8.8.8", ""},
		{ValidateIPAddress, "0:0::1", "::1", ""},
		{ValidateIPAddress, "bad", "", "IP address is not correctly formatted: bad"},
		{ValidateDNSSearch, "example.com", "example.com", ""},
		{ValidateDNSSearch, ".", ".", ""},
		{ValidateDNSSearch, "-bad-", "", "-bad- is not a valid domain"},
		{ValidateDevice, "/dev/fuse", "/dev/fuse", ""},
		{ValidateDevice, "/dev/sda:/dev/xvda:rw", "/dev/sda:/dev/xvda:rw", ""},
		{ValidateDevice, "/dev/sda:r", "/dev/sda:r", ""},
		{ValidateDevice, "/dev/sda:/x:rwx", "", "bad mode specified: rwx"},
		{ValidateDevice, "/dev/sda:rel", "", "bad format for path: rel"},
		{ValidateDeviceCgroupRule, "c 1:3 mr", "c 1:3 mr", ""},
		{ValidateDeviceCgroupRule, "a *:* rwm", "a *:* rwm", ""},
		{ValidateDeviceCgroupRule, "x 1:3 r", "", "invalid device cgroup format 'x 1:3 r'"},
	}
	for _, c := range cases {
		out, err := c.fn(c.in)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if out != c.out || gotErr != c.err {
			t.Errorf("%q: got %q %q, want %q %q", c.in, out, gotErr, c.out, c.err)
		}
	}
}

func TestEnvAndLabelFiles(t *testing.T) {
	t.Setenv("BERTH_TEST_FROM_ENV", "yes")
	dir := t.TempDir()
	env := filepath.Join(dir, "env")
	if err := os.WriteFile(env, []byte("\xef\xbb\xbf# comment\nA=1\n\n  B=two words \nBERTH_TEST_FROM_ENV\nBERTH_TEST_NOT_SET_ABC\nC=\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadEnvFiles([]string{env})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"A=1", "B=two words ", "BERTH_TEST_FROM_ENV=yes", "C="}; !reflect.DeepEqual(got, want) {
		t.Errorf("env file %q, want %q", got, want)
	}
	labels, err := ReadKVFiles([]string{env})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"A=1", "B=two words ", "C="}; !reflect.DeepEqual(labels, want) {
		t.Errorf("label file %q", labels)
	}
	bad := filepath.Join(dir, "bad")
	_ = os.WriteFile(bad, []byte("MY VAR=1\n"), 0o644)
	if _, err := ParseEnvFile(bad); err == nil || err.Error() != "variable 'MY VAR' contains whitespaces" {
		t.Errorf("whitespace: %v", err)
	}
	if _, err := ParseEnvFile(filepath.Join(dir, "nope")); err == nil || !strings.HasSuffix(err.Error(), "no such file or directory") {
		t.Errorf("missing: %v", err)
	}
	if m := KeyValueMap([]string{"a=1", "b", "c=x=y"}); !reflect.DeepEqual(m, map[string]string{"a": "1", "b": "", "c": "x=y"}) {
		t.Errorf("map %v", m)
	}
}

func TestParseMount(t *testing.T) {
	cwd, _ := os.Getwd()
	cases := []struct {
		in   string
		want mount.Mount
	}{
		{"type=bind,src=/data,dst=/data,readonly", mount.Mount{Type: "bind", Source: "/data", Target: "/data", ReadOnly: true}},
		{"type=bind,source=./x,target=/x,bind-propagation=rshared,ro=false", mount.Mount{Type: "bind", Source: filepath.Join(cwd, "x"), Target: "/x",
			BindOptions: &mount.BindOptions{Propagation: "rshared"}}},
		{"src=vol,dst=/v,volume-nocopy,volume-label=a=b,volume-driver=local,volume-opt=type=nfs,volume-subpath=sub", mount.Mount{Type: "volume", Source: "vol", Target: "/v",
			VolumeOptions: &mount.VolumeOptions{NoCopy: true, Labels: map[string]string{"a": "b"}, Subpath: "sub",
				DriverConfig: &mount.Driver{Name: "local", Options: map[string]string{"type": "nfs"}}}}},
		{"type=tmpfs,destination=/run,tmpfs-size=64m,tmpfs-mode=1770", mount.Mount{Type: "tmpfs", Target: "/run",
			TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 64 << 20, Mode: 0o1770}}},
		{"type=bind,src=/a,dst=/b,bind-recursive=writable,readonly", mount.Mount{Type: "bind", Source: "/a", Target: "/b", ReadOnly: true,
			BindOptions: &mount.BindOptions{ReadOnlyNonRecursive: true}}},
	}
	for _, c := range cases {
		got, err := ParseMount(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %+v %v\nwant %+v", c.in, got, err, c.want)
		}
	}
	for in, msg := range map[string]string{
		"type=bogus":                         "target is required",
		"src=/x":                             "target is required",
		"type=bind,dst=/x,bogus":             "invalid field 'bogus' must be a key=value pair",
		"type=bind,dst=/x,color=red":         "unexpected key 'color' in 'color=red'",
		"type=bind,dst=/x,volume-nocopy":     "cannot mix 'volume-*' options with mount type 'bind'",
		"type=volume,dst=/x,tmpfs-size=1m":   "cannot mix 'tmpfs-*' options with mount type 'volume'",
		"type=tmpfs,dst=/x,tmpfs-size=lots":  "invalid value for tmpfs-size: lots",
		"type=bind,dst=/x,readonly=maybe":    "invalid value for readonly: maybe",
		"type=bind,dst=/x,bind-recursive=no": `invalid value for bind-recursive: no (must be "enabled", "disabled", "writable", or "readonly")`,
	} {
		if _, err := ParseMount(in); err == nil || err.Error() != msg {
			t.Errorf("%q: %v, want %q", in, err, msg)
		}
	}
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	var m Mounts
	fs.Var(&m, "mount", "")
	err := fs.Parse([]string{"--mount", "type=bogus"})
	if err == nil || err.Error() != `invalid argument "type=bogus" for "--mount" flag: target is required` {
		t.Errorf("flag error: %v", err)
	}
}

func TestNetworks(t *testing.T) {
	var n Networks
	for _, v := range []string{"front", "name=back,alias=db,alias=pg,ip=10.1.0.5,ip6=fd00::5,driver-opt=com.x=1,mac-address=02:42:ac:11:00:02,gw-priority=2,link-local-ip=169.254.1.1"} {
		if err := n.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	got := n.Values()
	want := NetworkAttachment{Target: "back", Aliases: []string{"db", "pg"}, IPv4Address: "10.1.0.5", IPv6Address: "fd00::5",
		DriverOpts: map[string]string{"com.x": "1"}, MacAddress: "02:42:ac:11:00:02", GwPriority: 2, LinkLocalIPs: []string{"169.254.1.1"}}
	if got[0].Target != "front" || !reflect.DeepEqual(got[1], want) || n.NetworkMode() != "front" {
		t.Errorf("networks %+v", got)
	}
	for in, msg := range map[string]string{
		"alias=x":            "network name/id is not specified",
		"name=a,colour=blue": "invalid field key colour",
	} {
		if err := (&Networks{}).Set(in); err == nil || err.Error() != msg {
			t.Errorf("%q: %v", in, err)
		}
	}
}
