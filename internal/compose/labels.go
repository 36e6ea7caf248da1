package compose

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/berth-project/berth/api/filters"
	"github.com/compose-spec/compose-go/v2/types"
)

// The labels docker compose puts on what it creates; the same keys let either tool find a
// project the other made.
const (
	LabelProject     = "com.docker.compose.project"
	LabelService     = "com.docker.compose.service"
	LabelNumber      = "com.docker.compose.container-number"
	LabelOneoff      = "com.docker.compose.oneoff"
	LabelConfigHash  = "com.docker.compose.config-hash"
	LabelWorkingDir  = "com.docker.compose.project.working_dir"
	LabelConfigFiles = "com.docker.compose.project.config_files"
	LabelDependsOn   = "com.docker.compose.depends_on"
	LabelImage       = "com.docker.compose.image"
	LabelVersion     = "com.docker.compose.version"
	LabelNetwork     = "com.docker.compose.network"
	LabelVolume      = "com.docker.compose.volume"
)

// ContainerName is the name of replica n of a service: the service's container_name, else
// <project>-<service>-<n>.
func ContainerName(project string, s types.ServiceConfig, n int) string {
	if s.ContainerName != "" {
		return s.ContainerName
	}
	return fmt.Sprintf("%s-%s-%d", project, s.Name, n)
}

// OneoffName is the name of a `compose run` container.
func OneoffName(project, service, suffix string) string {
	return fmt.Sprintf("%s-%s-run-%s", project, service, suffix)
}

// ImageName is the image a service runs: its image:, else <project>-<service> for a build.
func ImageName(project string, s types.ServiceConfig) string {
	if s.Image != "" {
		return s.Image
	}
	return project + "-" + s.Name
}

// ConfigHash digests the parts of a service that a running container embodies. Like docker
// compose it ignores what does not change a container (build, pull policy, scale, replicas,
// dependencies, profiles), so scaling or editing a dependency does not recreate it.
func ConfigHash(s types.ServiceConfig) (string, error) {
	c := s // shallow: only top-level fields are cleared, Deploy is copied before its change
	c.Build = nil
	c.PullPolicy = ""
	c.Scale = nil
	if c.Deploy != nil {
		d := *c.Deploy
		d.Replicas = nil
		c.Deploy = &d
	}
	c.DependsOn = nil
	c.Profiles = nil
	b, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// dependsOnLabel is docker compose's com.docker.compose.depends_on value:
// service:condition:restart entries, comma separated, sorted.
func dependsOnLabel(s types.ServiceConfig) string {
	var deps []string
	for name, d := range s.DependsOn {
		deps = append(deps, fmt.Sprintf("%s:%s:%t", name, d.Condition, d.Restart))
	}
	sort.Strings(deps)
	return strings.Join(deps, ",")
}

// ContainerLabels are the labels of replica number of s, on top of the service's own labels.
func ContainerLabels(p *types.Project, s types.ServiceConfig, number int, oneoff bool, hash, version string) map[string]string {
	l := map[string]string{}
	for k, v := range s.Labels {
		l[k] = v
	}
	l[LabelProject] = p.Name
	l[LabelService] = s.Name
	l[LabelNumber] = strconv.Itoa(number)
	l[LabelOneoff] = boolLabel(oneoff)
	l[LabelConfigHash] = hash
	l[LabelWorkingDir] = p.WorkingDir
	l[LabelConfigFiles] = strings.Join(p.ComposeFiles, ",")
	l[LabelDependsOn] = dependsOnLabel(s)
	l[LabelImage] = ImageName(p.Name, s)
	l[LabelVersion] = version
	return l
}

// resourceLabels are the labels of a project network (kind LabelNetwork) or volume (LabelVolume).
func resourceLabels(own map[string]string, project, kind, key, version string) map[string]string {
	l := map[string]string{}
	for k, v := range own {
		l[k] = v
	}
	l[LabelProject] = project
	l[kind] = key
	l[LabelVersion] = version
	return l
}

func boolLabel(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// projectFilter selects a project's objects by label; extra "key=value" label terms narrow it.
func projectFilter(project string, labels ...string) filters.Args {
	f := filters.Args{}
	f.Add("label", LabelProject+"="+project)
	for _, l := range labels {
		f.Add("label", l)
	}
	return f
}
