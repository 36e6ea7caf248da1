package image

import (
	"reflect"
	"testing"
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
