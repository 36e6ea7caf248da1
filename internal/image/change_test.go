package image

import (
	"reflect"
	"testing"
	"time"
)

func TestApplyChanges(t *testing.T) {
	var cfg Config
	err := applyChanges(&cfg, []string{
		`CMD ["sh", "-c", "echo hi"]`,
		`ENTRYPOINT /bin/run --flag`,
		`ENV A=1 B="two words"`,
		`ENV LEGACY some value`,
		`ENV A=3`,
		`LABEL team=core "quoted key"=v`,
		`EXPOSE 80 53/udp`,
		`VOLUME ["/data"]`,
		`USER nobody`,
		`WORKDIR /srv`,
		`STOPSIGNAL SIGINT`,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Config
	checks := []struct {
		name      string
		got, want any
	}{
		{"cmd", c.Cmd, []string{"sh", "-c", "echo hi"}},
		{"entrypoint", c.Entrypoint, []string{"/bin/sh", "-c", "/bin/run --flag"}},
		{"env", c.Env, []string{"A=3", "B=two words", "LEGACY=some value"}},
		{"labels", c.Labels, map[string]string{"team": "core", "quoted key": "v"}},
		{"ports", c.ExposedPorts, map[string]struct{}{"80/tcp": {}, "53/udp": {}}},
		{"volumes", c.Volumes, map[string]struct{}{"/data": {}}},
		{"user", c.User, "nobody"},
		{"workdir", c.WorkingDir, "/srv"},
		{"stopsignal", c.StopSignal, "SIGINT"},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s: got %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
}

func TestApplyChangesRefusesBadInput(t *testing.T) {
	for _, change := range []string{"RUN echo", "ENV", `LABEL a="unterminated`, "LABEL novalue"} {
		var cfg Config
		if err := applyChanges(&cfg, []string{change}); err == nil {
			t.Errorf("%q accepted", change)
		}
	}
}

func TestParseTimestamp(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := map[string]time.Time{
		"24h":                  now.Add(-24 * time.Hour),
		"2025-12-01T00:00:00Z": time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC),
		"1700000000":           time.Unix(1700000000, 0),
		"1700000000.5":         time.Unix(1700000000, 500000000),
	}
	for in, want := range cases {
		got, err := parseTimestamp(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: got %v %v, want %v", in, got, err, want)
		}
	}
	if _, err := parseTimestamp("yesterday", now); err == nil {
		t.Error("bad timestamp accepted")
	}
}

func TestReferences(t *testing.T) {
	ref, err := parseTagged("busybox")
	if err != nil || ref.String() != "docker.io/library/busybox:latest" || familiar(ref.String()) != "busybox:latest" {
		t.Fatalf("busybox: %v %v", ref, err)
	}
	ref, err = parseRepoTag("123456789012.dkr.ecr.us-west-2.amazonaws.com/team/app", "1")
	if err != nil || familiar(ref.String()) != "123456789012.dkr.ecr.us-west-2.amazonaws.com/team/app:1" {
		t.Fatalf("ecr: %v %v", ref, err)
	}
	if refTag("docker.io/library/busybox:1.36") != "1.36" || familiarName("docker.io/library/busybox:1.36") != "busybox" {
		t.Fatal("refTag/familiarName")
	}
	for _, bad := range []string{"UPPER", "a b", "x:y:z"} {
		if _, err := parseTagged(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := parseRepoTag("busybox", "bad tag"); err == nil {
		t.Error("bad tag accepted")
	}
	if !nameOnly("busybox") || nameOnly("busybox:1") {
		t.Error("nameOnly")
	}
}
