package container

import (
	"fmt"
	"path/filepath"
	"strings"
)

// volumeSpec is one -v value: "dst" (an anonymous volume), "src:dst" or "src:dst:options", where
// src is a host path (starting with / or .) or a volume name.
type volumeSpec struct {
	source, target, mode string
}

func parseVolumeSpec(spec string) (volumeSpec, error) {
	if spec == "" {
		return volumeSpec{}, fmt.Errorf("invalid empty volume spec")
	}
	parts := strings.Split(spec, ":")
	for _, p := range parts {
		if p == "" {
			return volumeSpec{}, fmt.Errorf("invalid spec: %s: empty section between colons", spec)
		}
	}
	switch len(parts) {
	case 1:
		return volumeSpec{target: parts[0]}, nil
	case 2:
		return volumeSpec{source: parts[0], target: parts[1]}, nil
	case 3:
		return volumeSpec{source: parts[0], target: parts[1], mode: parts[2]}, nil
	}
	return volumeSpec{}, fmt.Errorf("invalid spec: %s: too many colons", spec)
}

// parseVolumes splits -v values into binds (HostConfig.Binds, relative host paths made
// absolute) and anonymous volumes (Config.Volumes).
func parseVolumes(specs []string) (binds []string, volumes map[string]struct{}, err error) {
	for _, spec := range specs {
		v, err := parseVolumeSpec(spec)
		if err != nil {
			return nil, nil, err
		}
		if v.source == "" {
			if volumes == nil {
				volumes = map[string]struct{}{}
			}
			volumes[v.target] = struct{}{}
			continue
		}
		if strings.HasPrefix(v.source, ".") {
			if abs, err := filepath.Abs(v.source); err == nil {
				v.source = abs
			}
		}
		bind := v.source + ":" + v.target
		if v.mode != "" {
			bind += ":" + v.mode
		}
		binds = append(binds, bind)
	}
	return binds, volumes, nil
}
