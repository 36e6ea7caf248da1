package compose

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
)

func project() *types.Project {
	one := 1
	return &types.Project{
		Name:         "demo",
		WorkingDir:   "/src/demo",
		ComposeFiles: []string{"/src/demo/compose.yaml", "/src/demo/override.yaml"},
		Services: types.Services{
			"web": {Name: "web", ContainerSpec: types.ContainerSpec{Image: "busybox", Labels: types.Labels{"own": "x"}}},
			"app": {Name: "app", Scale: &one, WorkloadSpec: types.WorkloadSpec{DependsOn: types.DependsOnConfig{
				"web": {Condition: types.ServiceConditionHealthy, Restart: true, Required: true},
				"db":  {Condition: types.ServiceConditionStarted, Required: true},
			}, Build: &types.BuildConfig{Context: "."}}},
			"db": {Name: "db", ContainerSpec: types.ContainerSpec{Image: "busybox"}},
		},
	}
}

func TestNames(t *testing.T) {
	p := project()
	if got := ContainerName(p.Name, p.Services["web"], 2); got != "demo-web-2" {
		t.Errorf("container name %q", got)
	}
	s := p.Services["web"]
	s.ContainerName = "fixed"
	if got := ContainerName(p.Name, s, 1); got != "fixed" {
		t.Errorf("container_name: %q", got)
	}
	if got := ImageName(p.Name, p.Services["app"]); got != "demo-app" {
		t.Errorf("build image name %q", got)
	}
	if got := ImageName(p.Name, p.Services["web"]); got != "busybox" {
		t.Errorf("image name %q", got)
	}
	if got := OneoffName("demo", "app", "abc"); got != "demo-app-run-abc" {
		t.Errorf("oneoff %q", got)
	}
}

func TestConfigHash(t *testing.T) {
	p := project()
	base, err := ConfigHash(p.Services["app"])
	if err != nil || len(base) != 64 {
		t.Fatalf("hash %q %v", base, err)
	}
	// What does not change a container leaves the hash alone.
	s := p.Services["app"]
	three := 3
	s.Scale = &three
	s.DependsOn = nil
	s.Build = &types.BuildConfig{Context: "elsewhere"}
	s.Profiles = []string{"x"}
	if h, _ := ConfigHash(s); h != base {
		t.Errorf("scale/deps/build/profiles changed the hash")
	}
	if *s.Scale != 3 {
		t.Error("ConfigHash modified its argument")
	}
	// What does change it changes the hash.
	s = p.Services["app"]
	s.Command = types.ShellCommand{"sleep", "1"}
	if h, _ := ConfigHash(s); h == base {
		t.Error("command change kept the hash")
	}
	s = p.Services["app"]
	v := "1"
	s.Environment = types.MappingWithEquals{"A": &v}
	if h, _ := ConfigHash(s); h == base {
		t.Error("environment change kept the hash")
	}
}

func TestDeployReplicasIgnored(t *testing.T) {
	two, five := 2, 5
	a := types.ServiceConfig{Name: "a", Deploy: &types.DeployConfig{Replicas: &two}}
	b := types.ServiceConfig{Name: "a", Deploy: &types.DeployConfig{Replicas: &five}}
	ha, _ := ConfigHash(a)
	hb, _ := ConfigHash(b)
	if ha != hb {
		t.Error("deploy.replicas changed the hash")
	}
	if *a.Deploy.Replicas != 2 {
		t.Error("ConfigHash modified deploy")
	}
}

func TestContainerLabels(t *testing.T) {
	p := project()
	l := ContainerLabels(p, p.Services["app"], 2, false, "h", "1.0")
	want := map[string]string{
		LabelProject:     "demo",
		LabelService:     "app",
		LabelNumber:      "2",
		LabelOneoff:      "False",
		LabelConfigHash:  "h",
		LabelWorkingDir:  "/src/demo",
		LabelConfigFiles: "/src/demo/compose.yaml,/src/demo/override.yaml",
		LabelDependsOn:   "db:service_started:false,web:service_healthy:true",
		LabelImage:       "demo-app",
		LabelVersion:     "1.0",
	}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("%s = %q, want %q", k, l[k], v)
		}
	}
	if l := ContainerLabels(p, p.Services["web"], 1, true, "h", "1.0"); l["own"] != "x" || l[LabelOneoff] != "True" {
		t.Errorf("own label or oneoff: %v", l)
	}
	r := resourceLabels(map[string]string{"a": "b"}, "demo", LabelNetwork, "front", "1.0")
	if r[LabelProject] != "demo" || r[LabelNetwork] != "front" || r["a"] != "b" || r[LabelVersion] != "1.0" {
		t.Errorf("network labels %v", r)
	}
}

func TestTopoOrder(t *testing.T) {
	p := project()
	order, err := topoOrder(dependencyGraph(p, p.ServiceNames()))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Index(order, "app") < slices.Index(order, "web") || slices.Index(order, "app") < slices.Index(order, "db") {
		t.Errorf("order %v", order)
	}
	// Only the selected services count.
	if g := dependencyGraph(p, []string{"app", "db"}); !slices.Equal(g["app"], []string{"db"}) {
		t.Errorf("subgraph %v", g)
	}
	_, err = topoOrder(map[string][]string{"a": {"b"}, "b": {"c"}, "c": {"a"}})
	if err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("cycle: %v", err)
	}
}

func TestInDependencyOrder(t *testing.T) {
	g := map[string][]string{"app": {"db", "web"}, "db": nil, "web": nil}
	var mu sync.Mutex
	var done []string
	running := 0
	maxRunning := 0
	err := inDependencyOrder(context.Background(), g, false, func(_ context.Context, n string) error {
		mu.Lock()
		running++
		maxRunning = max(maxRunning, running)
		mu.Unlock()
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		running--
		done = append(done, n)
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if done[2] != "app" || maxRunning != 2 {
		t.Errorf("order %v, %d in parallel (want db and web together, then app)", done, maxRunning)
	}
	done = nil
	_ = inDependencyOrder(context.Background(), g, true, func(_ context.Context, n string) error {
		mu.Lock()
		done = append(done, n)
		mu.Unlock()
		return nil
	})
	if done[0] != "app" {
		t.Errorf("reverse order %v", done)
	}
	// A failure stops what depends on it.
	var ran []string
	err = inDependencyOrder(context.Background(), g, false, func(_ context.Context, n string) error {
		mu.Lock()
		ran = append(ran, n)
		mu.Unlock()
		if n == "db" {
			return context.DeadlineExceeded
		}
		return nil
	})
	if err != context.DeadlineExceeded || slices.Contains(ran, "app") {
		t.Errorf("failure: %v, ran %v", err, ran)
	}
}

func TestContainerRequest(t *testing.T) {
	grace := types.Duration(3 * time.Second)
	p := &types.Project{
		Name:     "demo",
		Networks: types.Networks{"default": {Name: "demo_default"}, "back": {Name: "demo_back"}},
		Volumes:  types.Volumes{"data": {Name: "demo_data"}},
		Secrets:  types.Secrets{"token": {File: "/src/token"}},
	}
	s := types.ServiceConfig{Name: "web", Restart: "on-failure:3",
		ContainerSpec: types.ContainerSpec{
			Image:           "busybox",
			StopGracePeriod: &grace,
			Networks:        map[string]*types.ServiceNetworkConfig{"default": nil, "back": {Aliases: []string{"api"}, Ipv4Address: "10.5.0.9"}},
			Volumes: []types.ServiceVolumeConfig{
				{Type: types.VolumeTypeVolume, Source: "data", Target: "/data"},
				{Type: types.VolumeTypeBind, Source: "/src/www", Target: "/www", ReadOnly: true, Bind: &types.ServiceVolumeBind{CreateHostPath: true}},
				{Type: types.VolumeTypeTmpfs, Target: "/tmp"},
			},
			Secrets: []types.ServiceSecretConfig{{Source: "token"}},
			DNS:     types.StringList{"10.0.0.2"},
		},
		WorkloadSpec: types.WorkloadSpec{Ports: []types.ServicePortConfig{{Target: 80, Published: "8080", Protocol: "tcp"}}},
	}
	req, err := containerRequest(p, s, "demo-web-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := req.hostConfig
	if hc.RestartPolicy.Name != "on-failure" || hc.RestartPolicy.MaximumRetryCount != 3 {
		t.Errorf("restart %+v", hc.RestartPolicy)
	}
	if *req.config.StopTimeout != 3 {
		t.Errorf("stop timeout %v", *req.config.StopTimeout)
	}
	if !slices.Equal(hc.Binds, []string{"/src/www:/www:ro"}) {
		t.Errorf("binds %v", hc.Binds)
	}
	if len(hc.Mounts) != 3 || hc.Mounts[0].Source != "demo_data" || hc.Mounts[2].Target != "/run/secrets/token" || !hc.Mounts[2].ReadOnly {
		t.Errorf("mounts %+v", hc.Mounts)
	}
	ep := req.networking.EndpointsConfig["demo_back"]
	if ep == nil || !slices.Equal(ep.Aliases, []string{"web", "demo-web-1", "api"}) || ep.IPAMConfig.IPv4Address.String() != "10.5.0.9" {
		t.Errorf("back endpoint %+v", ep)
	}
	if d := req.networking.EndpointsConfig["demo_default"]; d == nil || !slices.Equal(d.Aliases, []string{"web", "demo-web-1"}) {
		t.Errorf("default endpoint %+v", d)
	}
	if string(hc.NetworkMode) != "demo_back" && string(hc.NetworkMode) != "demo_default" {
		t.Errorf("network mode %q", hc.NetworkMode)
	}
	if len(hc.PortBindings) != 1 || len(req.config.ExposedPorts) != 1 {
		t.Errorf("ports %v %v", hc.PortBindings, req.config.ExposedPorts)
	}
	s.Volumes = []types.ServiceVolumeConfig{{Type: types.VolumeTypeVolume, Source: "nosuch", Target: "/x"}}
	if _, err := containerRequest(p, s, "demo-web-1", nil); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("undefined volume: %v", err)
	}
}
