package container

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	apivolume "github.com/moby/moby/api/types/volume"
	"github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-project/berth/internal/archive"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/oci"
	"github.com/berth-project/berth/internal/volume"
)

// Volumes is what the container service needs from the volume service.
type Volumes interface {
	Create(ctx context.Context, o volume.CreateOptions) (*apivolume.Volume, error)
	Ref(name, id string) error
	Unref(name, id string)
	Restore(name, id string, running bool)
	Mount(name, user string) (string, error)
	Unmount(name, user string) bool
	Anonymous(name string) bool
	Remove(ctx context.Context, name string, force bool) error
}

// mountSet collects a new container's mount points by destination and undoes its volume
// references (and the anonymous volumes it made) when the create fails.
type mountSet struct {
	s       *Service
	id      string
	points  []volume.MountPoint
	byDest  map[string]int
	created []string
}

func (m *mountSet) add(p volume.MountPoint) {
	if i, ok := m.byDest[p.Destination]; ok {
		m.drop(m.points[i])
		m.points[i] = p
		return
	}
	m.byDest[p.Destination] = len(m.points)
	m.points = append(m.points, p)
}

func (m *mountSet) drop(p volume.MountPoint) {
	if p.Type == mount.TypeVolume {
		m.s.volumes.Unref(p.Name, m.id)
	}
}

func (m *mountSet) undo(ctx context.Context) {
	for _, p := range m.points {
		m.drop(p)
	}
	for _, name := range m.created {
		m.s.volumes.Remove(ctx, name, true)
	}
}

// volume creates or looks up the volume p names (an anonymous one when it names none) with a
// reference for the container, and fills in what inspect shows of it.
func (m *mountSet) volume(ctx context.Context, p *volume.MountPoint, opts map[string]string, labels map[string]string) error {
	anonymous := p.Name == ""
	if anonymous {
		labels = merge(map[string]string{volume.AnonymousLabel: ""}, labels)
	}
	v, err := m.s.volumes.Create(ctx, volume.CreateOptions{Name: p.Name, Driver: p.Driver, Options: opts, Labels: labels, Ref: m.id})
	if err != nil {
		return err
	}
	if anonymous {
		m.created = append(m.created, v.Name)
	}
	p.Name, p.Source, p.Driver = v.Name, v.Mountpoint, v.Driver
	return nil
}

// resolveMounts turns --volumes-from, Binds, Mounts and the config's (and image's) VOLUMEs into the
// container's mount points, in docker's order of precedence, creating the volumes they name.
func (s *Service) resolveMounts(ctx context.Context, c *Container) (_ []volume.MountPoint, err error) {
	hc := c.HostConfig
	m := &mountSet{s: s, id: c.ID, byDest: map[string]int{}}
	defer func() {
		if err != nil {
			m.undo(ctx)
		}
	}()
	for _, spec := range hc.VolumesFrom {
		ref, rw, err := volume.ParseVolumesFrom(spec)
		if err != nil {
			return nil, err
		}
		from, err := s.Get(ref)
		if err != nil {
			return nil, err
		}
		from.mu.Lock()
		points := append([]volume.MountPoint(nil), from.MountPoints...)
		from.mu.Unlock()
		for _, p := range points {
			if p.Type == mount.TypeTmpfs {
				continue
			}
			p.RW = p.RW && rw
			p.CopyData = false
			if p.Type == mount.TypeVolume {
				if err := s.volumes.Ref(p.Name, c.ID); err != nil {
					return nil, err
				}
			}
			m.add(p)
		}
	}
	explicit := map[string]bool{} // destinations given by Binds and Mounts, which may not repeat
	for _, b := range hc.Binds {
		p, err := volume.ParseBind(b)
		if err != nil {
			return nil, err
		}
		if explicit[p.Destination] {
			return nil, errdefs.InvalidArgumentf("Duplicate mount point: %s", p.Destination)
		}
		explicit[p.Destination] = true
		if p.Type == mount.TypeVolume {
			if p.Driver == volume.DefaultDriver && hc.VolumeDriver != "" {
				p.Driver = hc.VolumeDriver
			}
			if err := m.volume(ctx, &p, nil, nil); err != nil {
				return nil, err
			}
			if p.Mode == "" {
				p.Mode = "z"
			}
		}
		m.add(p)
	}
	for _, spec := range hc.Mounts {
		p, err := volume.ParseMount(spec)
		if err != nil {
			return nil, err
		}
		if explicit[p.Destination] {
			return nil, errdefs.InvalidArgumentf("Duplicate mount point: %s", p.Destination)
		}
		explicit[p.Destination] = true
		if p.Type == mount.TypeVolume {
			var opts, labels map[string]string
			if vo := spec.VolumeOptions; vo != nil {
				labels = vo.Labels
				if vo.DriverConfig != nil {
					opts = vo.DriverConfig.Options
				}
			}
			if err := m.volume(ctx, &p, opts, labels); err != nil {
				return nil, err
			}
			p.Mode = "z"
		}
		m.add(p)
	}
	dests := make([]string, 0, len(c.Config.Volumes))
	for d := range c.Config.Volumes {
		dests = append(dests, d)
	}
	sort.Strings(dests)
	for _, d := range dests {
		p, err := volume.ParseMount(mount.Mount{Type: mount.TypeVolume, Target: d})
		if err != nil {
			return nil, err
		}
		if _, taken := m.byDest[p.Destination]; taken {
			continue
		}
		if _, tmpfs := hc.Tmpfs[p.Destination]; tmpfs {
			continue
		}
		p.Spec = mount.Mount{}
		if err := m.volume(ctx, &p, nil, nil); err != nil {
			return nil, err
		}
		m.add(p)
	}
	return m.points, nil
}

// restoreMounts re-takes the volume references of a container loaded at daemon start.
func (s *Service) restoreMounts(c *Container) {
	for _, p := range c.MountPoints {
		if p.Type == mount.TypeVolume {
			s.volumes.Restore(p.Name, c.ID, c.State.Running)
		}
	}
}

// releaseMounts drops the volume references of a removed container and, with removeVolumes, removes
// its anonymous volumes that nothing else uses.
func (s *Service) releaseMounts(ctx context.Context, c *Container, removeVolumes bool) {
	for _, p := range c.MountPoints {
		if p.Type != mount.TypeVolume {
			continue
		}
		s.volumes.Unref(p.Name, c.ID)
		if removeVolumes && s.volumes.Anonymous(p.Name) {
			if err := s.volumes.Remove(ctx, p.Name, false); err != nil && !errdefs.IsNotFound(err) {
				s.log.Info("keeping anonymous volume of removed container", "volume", p.Name, "container", c.ID, "err", err)
			}
		}
	}
}

// setupMounts makes the container's mount points ready on the mounted rootfs and returns them as
// spec mounts; c.mu is held. Each destination is resolved inside the rootfs, so a symlink in the
// image can only lead somewhere else in the container, never onto the host.
func (s *Service) setupMounts(ctx context.Context, c *Container, rootfs string) (_ []specs.Mount, err error) {
	defer func() {
		if err != nil {
			s.unmountVolumes(c)
		}
	}()
	var out []specs.Mount
	for i := range c.MountPoints {
		p := &c.MountPoints[i]
		host, err := securejoin.SecureJoin(rootfs, p.Destination)
		if err != nil {
			return nil, err
		}
		inner := "/" + strings.TrimPrefix(strings.TrimPrefix(host, rootfs), "/")
		if p.Type == mount.TypeTmpfs {
			if err := pathrs.MkdirAll(rootfs, inner, 0o755); err != nil {
				return nil, fmt.Errorf("create mount point %s: %w", p.Destination, err)
			}
			m, err := oci.TmpfsMount(inner, volume.TmpfsData(p.Spec.TmpfsOptions, !p.RW))
			if err != nil {
				return nil, err
			}
			out = append(out, m)
			continue
		}
		src := p.Source
		if p.Type == mount.TypeVolume {
			if src, err = s.volumes.Mount(p.Name, c.ID); err != nil {
				return nil, fmt.Errorf("error while mounting volume '%s': %w", p.Name, err)
			}
			s.events.Emit("volume", "mount", p.Name, map[string]string{
				"container": c.ID, "destination": p.Destination, "driver": p.Driver,
				"propagation": string(p.Propagation), "read/write": fmt.Sprint(p.RW),
			})
			if p.CopyData {
				if err := copyUp(ctx, host, src); err != nil {
					return nil, fmt.Errorf("copy image content of %s into volume %s: %w", p.Destination, p.Name, err)
				}
				p.CopyData = false
			}
		} else if p.CreateSource {
			if err := os.MkdirAll(src, 0o755); err != nil {
				return nil, fmt.Errorf("error while creating mount source path '%s': %w", src, err)
			}
		}
		fi, err := os.Stat(src)
		if err != nil {
			return nil, errdefs.InvalidArgumentf("invalid mount config for type %q: bind source path does not exist: %s", p.Type, src)
		}
		if err := makeMountTarget(rootfs, inner, fi.IsDir()); err != nil {
			return nil, fmt.Errorf("create mount point %s: %w", p.Destination, err)
		}
		out = append(out, specs.Mount{Destination: inner, Type: "bind", Source: src, Options: bindOptions(p)})
	}
	return out, nil
}

// makeMountTarget creates the directory, or the empty file a file is bound on, inside the rootfs.
func makeMountTarget(rootfs, inner string, dir bool) error {
	if dir {
		return pathrs.MkdirAll(rootfs, inner, 0o755)
	}
	if err := pathrs.MkdirAll(rootfs, path.Dir(inner), 0o755); err != nil {
		return err
	}
	full, err := securejoin.SecureJoin(rootfs, inner)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(full); err == nil {
		return nil
	}
	f, err := os.OpenFile(full, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

func bindOptions(p *volume.MountPoint) []string {
	opts := []string{"rbind"}
	if bo := p.Spec.BindOptions; bo != nil && bo.NonRecursive {
		opts[0] = "bind"
	}
	prop := string(p.Propagation)
	if prop == "" {
		prop = string(mount.PropagationRPrivate)
	}
	opts = append(opts, prop)
	if !p.RW {
		opts = append(opts, "ro")
	}
	return opts
}

// copyUp fills an empty volume with what the image has at the mount's destination, as docker does;
// a volume that already holds anything is left as it is.
func copyUp(ctx context.Context, imageDir, volumeDir string) error {
	fi, err := os.Lstat(imageDir)
	if err != nil || !fi.IsDir() {
		return nil // nothing in the image to copy
	}
	entries, err := os.ReadDir(volumeDir)
	if err != nil || len(entries) > 0 {
		return err
	}
	if err := archive.CopyTree(ctx, imageDir, volumeDir); err != nil {
		return err
	}
	// The volume's root takes the owner and mode of the directory it covers.
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if err := os.Lchown(volumeDir, int(st.Uid), int(st.Gid)); err != nil {
			return err
		}
	}
	return os.Chmod(volumeDir, fi.Mode().Perm()|fi.Mode()&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky))
}

// unmountVolumes releases the volumes the container has mounted, and the /dev/shm of an --ipc
// shareable one; c.mu is held.
func (s *Service) unmountVolumes(c *Container) {
	for _, p := range c.MountPoints {
		if p.Type == mount.TypeVolume && s.volumes.Unmount(p.Name, c.ID) {
			s.events.Emit("volume", "unmount", p.Name, map[string]string{"container": c.ID, "driver": p.Driver})
		}
	}
	if c.HostConfig.IpcMode.IsShareable() {
		unmountShm(s.shmDir(c.ID))
	}
}

// shmDir is where the /dev/shm of an --ipc shareable container is mounted on the host.
func (s *Service) shmDir(id string) string { return filepath.Join(s.run.ShmRoot, id) }

func mountShm(dir string, size int64) error {
	if size <= 0 {
		size = oci.DefaultShmSize
	}
	unmountShm(dir) // a run whose exit berthd did not see
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := syscall.Mount("shm", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, "mode=1777,size="+strconv.FormatInt(size, 10)); err != nil {
		return fmt.Errorf("mount the shareable /dev/shm: %w", err)
	}
	return nil
}

// unmountShm takes a shareable /dev/shm away, detached: containers that joined keep the tmpfs
// through their own binds.
func unmountShm(dir string) {
	syscall.Unmount(dir, syscall.MNT_DETACH)
	os.Remove(dir)
}

// mountPoints is the Mounts list of inspect and ps, by destination.
func (c *Container) mountPoints() []container.MountPoint {
	out := make([]container.MountPoint, 0, len(c.MountPoints))
	for _, p := range c.MountPoints {
		out = append(out, container.MountPoint{
			Type: p.Type, Name: p.Name, Source: p.Source, Destination: p.Destination, Driver: p.Driver,
			Mode: p.Mode, RW: p.RW, Propagation: p.Propagation,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Destination < out[j].Destination })
	return out
}
