package volume

import (
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/moby/moby/api/types/mount"

	"github.com/berth-project/berth/internal/errdefs"
)

// MountPoint is one mount of a container as its record keeps it: what docker's inspect shows under
// Mounts, plus what berth needs to set it up at start.
type MountPoint struct {
	Type        mount.Type
	Name        string `json:",omitempty"` // the volume, for type volume
	Source      string `json:",omitempty"` // the host path, for type bind
	Destination string
	Driver      string `json:",omitempty"`
	Mode        string // the -v mode string as given ("ro,z"), "z" for local volumes
	RW          bool
	Propagation mount.Propagation `json:",omitempty"`
	// CopyData asks for the image content at Destination to be copied into the volume at the next
	// start if the volume is empty then; cleared once that start has looked.
	CopyData bool `json:",omitempty"`
	// Spec is the --mount request this came from (tmpfs options, bind options).
	Spec mount.Mount
	// CreateSource makes a missing bind source directory at start (-v does, --mount does not).
	CreateSource bool `json:",omitempty"`
}

// errTargetIsRoot is docker's refusal of a mount on "/".
var errTargetIsRoot = fmt.Errorf("invalid specification: destination can't be '/'")

var rwModes = map[string]bool{"rw": true, "ro": true, "ro-non-recursive": true, "ro-force-recursive": true, "rro": true}
var labelModes = map[string]bool{"z": true, "Z": true}
var copyModes = map[string]bool{"nocopy": true}
var consistencyModes = map[string]bool{"consistent": true, "cached": true, "delegated": true, "default": true}
var propagationModes = map[mount.Propagation]bool{
	mount.PropagationPrivate: true, mount.PropagationRPrivate: true, mount.PropagationSlave: true,
	mount.PropagationRSlave: true, mount.PropagationShared: true, mount.PropagationRShared: true,
}

// validMode reports whether mode is a comma list with at most one word of each kind docker knows.
func validMode(mode string) bool {
	if mode == "" {
		return true
	}
	counts := map[string]int{}
	for _, o := range strings.Split(mode, ",") {
		switch {
		case rwModes[o]:
			counts["rw"]++
		case labelModes[o]:
			counts["label"]++
		case propagationModes[mount.Propagation(o)]:
			counts["propagation"]++
		case copyModes[o]:
			counts["copy"]++
		case consistencyModes[o]:
			counts["consistency"]++
		default:
			return false
		}
	}
	for _, n := range counts {
		if n > 1 {
			return false
		}
	}
	return true
}

func modeHas(mode string, pred func(string) bool) (string, bool) {
	for _, o := range strings.Split(mode, ",") {
		if pred(o) {
			return o, true
		}
	}
	return "", false
}

func invalidSpec(raw string) error { return fmt.Errorf("invalid volume specification: '%s'", raw) }

// ParseBind parses one HostConfig.Binds entry ("src:dst[:mode]"; src is a host path when absolute,
// else a volume name) as docker's daemon does, with its error messages.
func ParseBind(raw string) (MountPoint, error) {
	arr := strings.SplitN(raw, ":", 4)
	if arr[0] == "" {
		return MountPoint{}, errdefs.As(errdefs.InvalidArgument, invalidSpec(raw))
	}
	var spec mount.Mount
	mode := ""
	switch len(arr) {
	case 1:
		spec.Target = arr[0]
	case 2:
		if validMode(arr[1]) {
			return MountPoint{}, errdefs.As(errdefs.InvalidArgument, invalidSpec(raw))
		}
		spec.Source, spec.Target = arr[0], arr[1]
	case 3:
		spec.Source, spec.Target, mode = arr[0], arr[1], arr[2]
	default:
		return MountPoint{}, errdefs.As(errdefs.InvalidArgument, invalidSpec(raw))
	}
	if !validMode(mode) {
		return MountPoint{}, errdefs.InvalidArgumentf("invalid mode: %v", mode)
	}
	spec.Type = mount.TypeVolume
	if path.IsAbs(spec.Source) {
		spec.Type = mount.TypeBind
	}
	if _, ro := modeHas(mode, func(o string) bool { return o == "ro" || o == "rro" || strings.HasPrefix(o, "ro-") }); ro {
		spec.ReadOnly = true
	}
	if _, nocopy := modeHas(mode, func(o string) bool { return copyModes[o] }); nocopy {
		spec.VolumeOptions = &mount.VolumeOptions{NoCopy: true}
	}
	if p, ok := modeHas(mode, func(o string) bool { return propagationModes[mount.Propagation(o)] }); ok {
		spec.BindOptions = &mount.BindOptions{Propagation: mount.Propagation(p)}
	}
	mp, err := parseSpec(spec, false)
	if err != nil {
		return MountPoint{}, errdefs.As(errdefs.InvalidArgument, fmt.Errorf("%v: %v", invalidSpec(raw), err))
	}
	mp.Mode = mode
	mp.CreateSource = mp.Type == mount.TypeBind
	mp.Spec = mount.Mount{} // Binds are reported as given in HostConfig.Binds, not as a mount spec
	return mp, nil
}

// ParseMount validates one HostConfig.Mounts entry (--mount) as docker does; a bind source must exist.
func ParseMount(m mount.Mount) (MountPoint, error) {
	mp, err := parseSpec(m, true)
	if err != nil {
		return MountPoint{}, errdefs.As(errdefs.InvalidArgument, err)
	}
	return mp, nil
}

type mountConfigError struct {
	typ mount.Type
	err error
}

func (e mountConfigError) Error() string {
	return fmt.Sprintf("invalid mount config for type %q: %v", e.typ, e.err)
}

func parseSpec(m mount.Mount, bindSourceMustExist bool) (MountPoint, error) {
	bad := func(format string, args ...any) (MountPoint, error) {
		return MountPoint{}, mountConfigError{m.Type, fmt.Errorf(format, args...)}
	}
	if m.Target == "" {
		return bad("field Target must not be empty")
	}
	if path.Clean(m.Target) == "/" {
		return MountPoint{}, mountConfigError{m.Type, errTargetIsRoot}
	}
	if !path.IsAbs(m.Target) {
		return bad("invalid mount path: '%s' mount path must be absolute", m.Target)
	}
	mp := MountPoint{Type: m.Type, Destination: path.Clean(m.Target), RW: !m.ReadOnly, Spec: m}
	switch m.Type {
	case mount.TypeBind:
		if m.Source == "" {
			return bad("field Source must not be empty")
		}
		if o := m.BindOptions; o != nil && o.Propagation != "" && !propagationModes[o.Propagation] {
			return bad("invalid propagation mode: %s", o.Propagation)
		}
		if m.VolumeOptions != nil {
			return bad("field VolumeOptions must not be specified")
		}
		if !path.IsAbs(m.Source) {
			return bad("invalid mount path: '%s' mount path must be absolute", m.Source)
		}
		if bindSourceMustExist {
			create := m.BindOptions != nil && m.BindOptions.CreateMountpoint
			if _, err := os.Stat(m.Source); os.IsNotExist(err) && !create {
				return bad("bind source path does not exist: %s", m.Source)
			} else if err != nil && !os.IsNotExist(err) {
				return bad("%v", err)
			}
			mp.CreateSource = create
		}
		mp.Source = path.Clean(m.Source)
		mp.Propagation = mount.PropagationRPrivate
		if m.BindOptions != nil && m.BindOptions.Propagation != "" {
			mp.Propagation = m.BindOptions.Propagation
		}
	case mount.TypeVolume:
		if m.BindOptions != nil {
			return bad("field BindOptions must not be specified")
		}
		anonymous := m.Source == ""
		if vo := m.VolumeOptions; vo != nil && vo.Subpath != "" {
			return bad("volume subpaths are not supported by berth")
		}
		if m.ReadOnly && anonymous {
			return bad("must not set ReadOnly mode when using anonymous volumes")
		}
		if !anonymous {
			if err := ValidateName(m.Source); err != nil {
				return MountPoint{}, mountConfigError{m.Type, err}
			}
		}
		mp.Name = m.Source
		mp.Driver = DefaultDriver
		mp.CopyData = true
		if vo := m.VolumeOptions; vo != nil {
			if vo.DriverConfig != nil && vo.DriverConfig.Name != "" {
				mp.Driver = vo.DriverConfig.Name
			}
			mp.CopyData = !vo.NoCopy
		}
	case mount.TypeTmpfs:
		if m.BindOptions != nil {
			return bad("field BindOptions must not be specified")
		}
		if m.Source != "" {
			return bad("field Source must not be specified")
		}
	default:
		return bad("mount type unknown")
	}
	return mp, nil
}

// ParseVolumesFrom splits a --volumes-from value "container[:ro|rw]".
func ParseVolumesFrom(spec string) (id string, rw bool, err error) {
	if spec == "" {
		return "", false, errdefs.InvalidArgumentf("volumes-from specification cannot be an empty string")
	}
	id, mode, _ := strings.Cut(spec, ":")
	if mode == "" {
		return id, true, nil
	}
	_, prop := modeHas(mode, func(o string) bool { return propagationModes[mount.Propagation(o)] })
	_, cp := modeHas(mode, func(o string) bool { return copyModes[o] })
	if !validMode(mode) || prop || cp {
		return "", false, errdefs.InvalidArgumentf("invalid mode: %v", mode)
	}
	_, ro := modeHas(mode, func(o string) bool { return o == "ro" })
	return id, !ro, nil
}

// TmpfsData renders a --mount type=tmpfs request as --tmpfs option text ("ro,mode=1777,size=64m").
func TmpfsData(o *mount.TmpfsOptions, readOnly bool) string {
	var opts []string
	if readOnly {
		opts = append(opts, "ro")
	}
	if o != nil && o.Mode != 0 {
		opts = append(opts, fmt.Sprintf("mode=%o", o.Mode))
	}
	if o != nil && o.SizeBytes != 0 {
		size, suffix := o.SizeBytes, ""
		for _, u := range []struct {
			s string
			n int64
		}{{"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}} {
			if size%u.n == 0 {
				size, suffix = size/u.n, u.s
				break
			}
		}
		opts = append(opts, fmt.Sprintf("size=%d%s", size, suffix))
	}
	if o != nil {
		for _, kv := range o.Options {
			opts = append(opts, strings.Join(kv, "="))
		}
	}
	return strings.Join(opts, ",")
}
