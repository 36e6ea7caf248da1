package opts

import (
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/mount"
)

// Mounts collects --mount flags: comma-separated key=value fields such as
// "type=bind,src=/data,dst=/data,readonly".
type Mounts struct {
	values []mount.Mount
}

// Set parses one --mount value.
func (m *Mounts) Set(v string) error {
	mnt, err := ParseMount(v)
	if err != nil {
		return err
	}
	m.values = append(m.values, mnt)
	return nil
}

func (m *Mounts) String() string {
	var out []string
	for _, mnt := range m.values {
		out = append(out, fmt.Sprintf("%s %s:%s", mnt.Type, mnt.Source, mnt.Target))
	}
	return strings.Join(out, ", ")
}

// Type is the name shown in help.
func (m *Mounts) Type() string { return "mount" }

// Values returns the mounts in the order given.
func (m *Mounts) Values() []mount.Mount { return append([]mount.Mount(nil), m.values...) }

// ParseMount parses the value of one --mount flag. The type defaults to volume.
func ParseMount(v string) (mount.Mount, error) {
	r := csv.NewReader(strings.NewReader(v))
	fields, err := r.Read()
	if err != nil {
		return mount.Mount{}, err
	}
	m := mount.Mount{Type: mount.TypeVolume}
	var (
		bindOpts   = func() *mount.BindOptions { m.BindOptions = orNew(m.BindOptions); return m.BindOptions }
		volumeOpts = func() *mount.VolumeOptions { m.VolumeOptions = orNew(m.VolumeOptions); return m.VolumeOptions }
		tmpfsOpts  = func() *mount.TmpfsOptions { m.TmpfsOptions = orNew(m.TmpfsOptions); return m.TmpfsOptions }
		imageOpts  = func() *mount.ImageOptions { m.ImageOptions = orNew(m.ImageOptions); return m.ImageOptions }
		driver     = func() *mount.Driver {
			vo := volumeOpts()
			vo.DriverConfig = orNew(vo.DriverConfig)
			return vo.DriverConfig
		}
		readonlyNonRecursive bool
	)
	for _, field := range fields {
		key, val, hasValue := strings.Cut(field, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		if !hasValue {
			switch key {
			case "readonly", "ro", "volume-nocopy", "bind-nonrecursive":
				val = "true"
			default:
				return mount.Mount{}, fmt.Errorf("invalid field '%s' must be a key=value pair", field)
			}
		}
		boolValue := func() (bool, error) {
			b, err := strconv.ParseBool(val)
			if err != nil {
				return false, fmt.Errorf("invalid value for %s: %s", key, val)
			}
			return b, nil
		}
		switch key {
		case "type":
			m.Type = mount.Type(strings.ToLower(val))
		case "source", "src":
			m.Source = val
			if val == "." || strings.HasPrefix(val, "."+string(filepath.Separator)) {
				if abs, err := filepath.Abs(val); err == nil {
					m.Source = abs
				}
			}
		case "target", "dst", "destination":
			m.Target = val
		case "readonly", "ro":
			if m.ReadOnly, err = boolValue(); err != nil {
				return mount.Mount{}, err
			}
		case "consistency":
			m.Consistency = mount.Consistency(strings.ToLower(val))
		case "bind-propagation":
			bindOpts().Propagation = mount.Propagation(strings.ToLower(val))
		case "bind-nonrecursive":
			return mount.Mount{}, errors.New("bind-nonrecursive is deprecated, use bind-recursive=disabled instead")
		case "bind-recursive":
			switch strings.ToLower(val) {
			case "enabled":
			case "disabled":
				bindOpts().NonRecursive = true
			case "writable":
				bindOpts().ReadOnlyNonRecursive = true
				readonlyNonRecursive = true
			case "readonly":
				bindOpts().ReadOnlyForceRecursive = true
			default:
				return mount.Mount{}, fmt.Errorf(`invalid value for %s: %s (must be "enabled", "disabled", "writable", or "readonly")`, key, val)
			}
		case "bind-create-mountpoint":
			b, err := boolValue()
			if err != nil {
				return mount.Mount{}, err
			}
			bindOpts().CreateMountpoint = b
		case "volume-subpath":
			volumeOpts().Subpath = val
		case "volume-nocopy":
			b, err := boolValue()
			if err != nil {
				return mount.Mount{}, err
			}
			volumeOpts().NoCopy = b
		case "volume-label":
			vo := volumeOpts()
			if vo.Labels == nil {
				vo.Labels = map[string]string{}
			}
			lk, lv, _ := strings.Cut(val, "=")
			vo.Labels[lk] = lv
		case "volume-driver":
			driver().Name = val
		case "volume-opt":
			d := driver()
			if d.Options == nil {
				d.Options = map[string]string{}
			}
			optKey, optValue, _ := strings.Cut(val, "=")
			d.Options[optKey] = optValue
		case "image-subpath":
			imageOpts().Subpath = val
		case "tmpfs-size":
			n, err := units.RAMInBytes(val)
			if err != nil {
				return mount.Mount{}, fmt.Errorf("invalid value for %s: %s", key, val)
			}
			tmpfsOpts().SizeBytes = n
		case "tmpfs-mode":
			n, err := strconv.ParseUint(val, 8, 32)
			if err != nil {
				return mount.Mount{}, fmt.Errorf("invalid value for %s: %s", key, val)
			}
			tmpfsOpts().Mode = os.FileMode(n)
		default:
			return mount.Mount{}, fmt.Errorf("unexpected key '%s' in '%s'", key, field)
		}
	}
	if m.Target == "" {
		return mount.Mount{}, errors.New("target is required")
	}
	mixed := func(prefix string) error {
		return fmt.Errorf("cannot mix '%s-*' options with mount type '%s'", prefix, m.Type)
	}
	if m.BindOptions != nil && m.Type != mount.TypeBind {
		return mount.Mount{}, mixed("bind")
	}
	if m.VolumeOptions != nil && m.Type != mount.TypeVolume {
		return mount.Mount{}, mixed("volume")
	}
	if m.TmpfsOptions != nil && m.Type != mount.TypeTmpfs {
		return mount.Mount{}, mixed("tmpfs")
	}
	if m.ImageOptions != nil && m.Type != mount.TypeImage {
		return mount.Mount{}, mixed("image")
	}
	if readonlyNonRecursive && !m.ReadOnly {
		return mount.Mount{}, errors.New("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction")
	}
	return m, nil
}

func orNew[T any](p *T) *T {
	if p == nil {
		return new(T)
	}
	return p
}
