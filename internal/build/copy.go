package build

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/patternmatcher"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"github.com/berth-project/berth/internal/archive"
	"github.com/berth-project/berth/internal/build/dockerfile"
	"github.com/berth-project/berth/internal/errdefs"
	"github.com/berth-project/berth/internal/image"
	"github.com/berth-project/berth/internal/oci"
)

// copySpec is a COPY or ADD with its flags.
type copySpec struct {
	name     string // COPY or ADD
	sd       instructions.SourcesAndDest
	from     string
	chown    string
	chmod    string
	exclude  []string
	add      bool
	checksum string
	unpack   *bool
}

// member is one thing a copy writes: a file, directory or link from a source tree, content
// fetched or given inline, or an archive to unpack.
type member struct {
	name    string // path in the layer, no leading slash
	full    string // on disk, when from a tree
	info    os.FileInfo
	data    []byte // inline, fetched or archive content
	mode    int64
	mtime   time.Time
	archive bool // unpack data (or full) under name
}

// copyStep runs COPY or ADD: it lists the sources, hashes what they hold for the cache key and,
// on a miss, writes the layer tar directly from them.
func (b *builder) copyStep(ctx context.Context, st *state, c copySpec) (bool, error) {
	root, release, err := b.copySource(ctx, st, c.from)
	if err != nil {
		return false, err
	}
	defer release()
	dest := c.sd.DestPath
	if !path.IsAbs(dest) {
		dest = path.Join("/", st.cfg.Config.WorkingDir, dest) + map[bool]string{true: "/", false: ""}[strings.HasSuffix(dest, "/")]
	}
	destDir := strings.HasSuffix(dest, "/") || strings.HasSuffix(c.sd.DestPath, "/.") || c.sd.DestPath == "."
	var excl *patternmatcher.PatternMatcher
	if len(c.exclude) > 0 {
		if excl, err = patternmatcher.New(c.exclude); err != nil {
			return false, errdefs.InvalidArgumentf("invalid --exclude pattern: %v", err)
		}
	}
	var members []member
	kinds := map[string]bool{}
	nsrc := 0
	for _, src := range c.sd.SourcePaths {
		if c.add && (strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")) {
			m, err := b.fetchSource(ctx, src, c.checksum)
			if err != nil {
				return false, err
			}
			m.name = targetName(dest, destDir || len(c.sd.SourcePaths) > 1, m.name)
			members = append(members, m)
			kinds["file"] = true
			nsrc++
			continue
		}
		if c.checksum != "" {
			return false, errdefs.InvalidArgumentf("checksum can't be specified for non-HTTP(S) sources")
		}
		matches, err := b.glob(root, src, c.from == "")
		if err != nil {
			return false, err
		}
		nsrc += len(matches)
		for _, rel := range matches {
			full := filepath.Join(root, rel)
			fi, err := os.Lstat(full)
			if err != nil {
				return false, err
			}
			if fi.IsDir() {
				kinds["dir"] = true
				ms, err := b.walkTree(root, rel, strings.TrimPrefix(path.Clean(dest), "/"), c.from == "", excl)
				if err != nil {
					return false, err
				}
				members = append(members, ms...)
				continue
			}
			kinds["file"] = true
			name := targetName(dest, destDir || len(c.sd.SourcePaths) > 1, path.Base(rel))
			m := member{name: name, full: full, info: fi}
			if c.add && (c.unpack == nil || *c.unpack) && fi.Mode().IsRegular() && sniffArchive(full) {
				m.name, m.archive = strings.TrimPrefix(path.Clean(dest), "/"), true
			}
			members = append(members, m)
		}
	}
	for _, sc := range c.sd.SourceContents {
		kinds["file"] = true
		nsrc++
		members = append(members, member{name: targetName(dest, true, path.Base(sc.Path)), data: []byte(sc.Data), mode: 0o644, mtime: time.Unix(0, 0)})
	}
	if nsrc > 1 && !destDir {
		return false, errdefs.InvalidArgumentf("When using %s with more than one source file, the destination must be a directory and end with a /", c.name)
	}
	uid, gid, err := b.owner(st, c.chown)
	if err != nil {
		return false, err
	}
	var chmod int64 = -1
	if c.chmod != "" {
		v, err := strconv.ParseUint(c.chmod, 8, 32)
		if err != nil || v > 0o7777 {
			return false, errdefs.InvalidArgumentf("invalid chmod %q: only octal modes are supported", c.chmod)
		}
		chmod = int64(v)
	}
	sum, err := hashMembers(members)
	if err != nil {
		return false, err
	}
	kind := "file"
	switch {
	case len(kinds) > 1 || nsrc > 1:
		kind = "multi"
	case kinds["dir"]:
		kind = "dir"
	}
	flags := ""
	if c.chown != "" {
		flags += "--chown=" + c.chown + " "
	}
	if c.chmod != "" {
		flags += "--chmod=" + c.chmod + " "
	}
	if c.from != "" {
		flags += "--from=" + c.from + " "
	}
	createdBy := dockerfile.NopCopy(st.shell(), fmt.Sprintf("%s %s%s:%s in %s ", c.name, flags, kind, sum, dest))
	return b.commit(ctx, st, createdBy, fmt.Sprintf("uid=%d gid=%d", uid, gid), nil, func(ctx context.Context) (io.Reader, func(), error) {
		pr, pw := io.Pipe()
		go func() {
			pw.CloseWithError(b.writeCopy(ctx, pw, st, members, strings.TrimPrefix(path.Clean(dest), "/"), destDir, uid, gid, chmod))
		}()
		return pr, func() { pr.Close() }, nil
	})
}

// targetName is where a file source lands: inside dest when dest is a directory.
func targetName(dest string, intoDir bool, base string) string {
	if intoDir {
		return strings.TrimPrefix(path.Join(dest, base), "/")
	}
	return strings.TrimPrefix(path.Clean(dest), "/")
}

// copySource returns the root sources are read from: the context, another stage's or an image's
// filesystem (mounted read-only for the step).
func (b *builder) copySource(ctx context.Context, st *state, from string) (string, func(), error) {
	if from == "" {
		return b.bctx.dir, func() {}, nil
	}
	var img *image.Image
	if j, ok := b.file.StageIndex(from, st.stage); ok {
		dep := b.stages[j]
		<-dep.done
		if dep.err != nil || dep.img == nil {
			return "", nil, fmt.Errorf("stage %s failed", from)
		}
		img = dep.img
	} else {
		var err error
		if img, err = b.baseImage(ctx, st.out, from, false); err != nil {
			if errdefs.IsNotFound(err) || errdefs.ClassOf(err) == errdefs.NotImplemented {
				return "", nil, errdefs.InvalidArgumentf("invalid from flag value %s: %v", from, err)
			}
			return "", nil, err
		}
	}
	dir, err := os.MkdirTemp(filepath.Join(b.s.root, "tmp"), "from-")
	if err != nil {
		return "", nil, err
	}
	if len(img.Chain) == 0 {
		return dir, func() { os.RemoveAll(dir) }, nil
	}
	if err := b.s.layers.MountReadOnly(img.Chain, dir); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return dir, func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			b.s.log.Warn("unmount copy source", "dir", dir, "err", err)
		}
		os.Remove(dir)
	}, nil
}

// glob resolves one source path (wildcards allowed) inside root to slash paths relative to it.
func (b *builder) glob(root, src string, fromContext bool) ([]string, error) {
	clean := path.Clean("/" + filepath.ToSlash(src))[1:]
	if clean == "" {
		clean = "."
	}
	if !strings.ContainsAny(clean, "*?[") {
		if fromContext && b.bctx.ignored(clean) {
			return nil, errdefs.NotFoundf("failed to compute cache key: %q not found: not found", src)
		}
		if _, err := os.Lstat(filepath.Join(root, clean)); err != nil {
			return nil, errdefs.NotFoundf("COPY failed: file not found in build context or excluded by .dockerignore: stat %s: file does not exist", src)
		}
		return []string{clean}, nil
	}
	matches, err := filepath.Glob(filepath.Join(root, clean))
	if err != nil {
		return nil, errdefs.InvalidArgumentf("invalid source pattern %q: %v", src, err)
	}
	var out []string
	for _, m := range matches {
		rel, _ := filepath.Rel(root, m)
		rel = filepath.ToSlash(rel)
		if fromContext && b.bctx.ignored(rel) {
			continue
		}
		out = append(out, rel)
	}
	if len(out) == 0 {
		return nil, errdefs.NotFoundf("COPY failed: no source files were specified matching %s", src)
	}
	return out, nil
}

// walkTree lists directory rel of root as members under dest (its content, not the directory
// itself, as COPY copies directories), leaving out ignored and excluded paths.
func (b *builder) walkTree(root, rel, dest string, fromContext bool, excl *patternmatcher.PatternMatcher) ([]member, error) {
	var out []member
	base := filepath.Join(root, rel)
	err := filepath.Walk(base, func(full string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		sub, _ := filepath.Rel(base, full)
		sub = filepath.ToSlash(sub)
		ctxRel := path.Join(rel, sub)
		if sub != "." && fromContext && b.bctx.ignored(ctxRel) {
			if fi.IsDir() && !b.bctx.ignore.Exclusions() {
				return filepath.SkipDir
			}
			return nil
		}
		if sub != "." && excl != nil {
			if m, _ := excl.MatchesOrParentMatches(sub); m {
				if fi.IsDir() && !excl.Exclusions() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		name := dest
		if sub != "." {
			name = strings.TrimPrefix(path.Join(dest, sub), "/")
		}
		if name == "" {
			return nil // the root directory itself
		}
		out = append(out, member{name: name, full: full, info: fi})
		return nil
	})
	return out, err
}

// fetchSource downloads an ADD URL; the file is named after the URL's last path element.
func (b *builder) fetchSource(ctx context.Context, src, checksum string) (member, error) {
	resp, err := b.s.fetch(ctx, src)
	if err != nil {
		return member{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return member{}, fmt.Errorf("failed to download %s: %w", src, err)
	}
	if checksum != "" {
		want, err := digest.Parse(checksum)
		if err != nil {
			return member{}, errdefs.InvalidArgumentf("invalid checksum %q: %v", checksum, err)
		}
		if got := want.Algorithm().FromBytes(data); got != want {
			return member{}, errdefs.InvalidArgumentf("digest mismatch %s: %s", got, want)
		}
	}
	name := "download"
	if u, err := url.Parse(src); err == nil && path.Base(u.Path) != "/" && path.Base(u.Path) != "." {
		name = path.Base(u.Path)
	}
	mtime := time.Unix(0, 0)
	if lm, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		mtime = lm
	}
	return member{name: name, data: data, mode: 0o600, mtime: mtime}, nil
}

// sniffArchive reports whether a local ADD source is a (possibly compressed) tar to unpack.
func sniffArchive(full string) bool {
	f, err := os.Open(full)
	if err != nil {
		return false
	}
	defer f.Close()
	head, _ := bufio.NewReader(f).Peek(512)
	return isArchive(head)
}

// owner resolves --chown against the image's /etc/passwd and /etc/group.
func (b *builder) owner(st *state, chown string) (int, int, error) {
	if chown == "" {
		return 0, 0, nil
	}
	uid, gid, _, err := oci.ParseUser(chown, b.readImageFile(st, "/etc/passwd"), b.readImageFile(st, "/etc/group"))
	if err != nil {
		return 0, 0, errdefs.InvalidArgumentf("unable to convert uid/gid chown string to host mapping: %v", err)
	}
	if !strings.Contains(chown, ":") {
		// docker: a user without group gets the user's ID as group too unless it is a name.
		if _, perr := strconv.Atoi(chown); perr == nil {
			gid = uid
		}
	}
	return int(uid), int(gid), nil
}

// hashMembers is the content hash of what a copy reads: names, modes, link targets and contents.
func hashMembers(members []member) (string, error) {
	h := sha256.New()
	sorted := append([]member{}, members...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, m := range sorted {
		fmt.Fprintf(h, "%s\x00%v\x00", m.name, m.archive)
		switch {
		case m.data != nil:
			fmt.Fprintf(h, "data %o %d\x00", m.mode, len(m.data))
			h.Write(m.data)
		case m.info.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(m.full)
			fmt.Fprintf(h, "link %s\x00", target)
		case m.info.IsDir():
			fmt.Fprintf(h, "dir %o\x00", m.info.Mode())
		case m.info.Mode().IsRegular():
			fmt.Fprintf(h, "file %o %d\x00", m.info.Mode(), m.info.Size())
			f, err := os.Open(m.full)
			if err != nil {
				return "", err
			}
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return "", err
			}
		default:
			fmt.Fprintf(h, "other %o\x00", m.info.Mode())
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeCopy writes the layer tar of a copy: parent directories as the image has them, the
// destination directory, then the members owned by uid:gid (mode chmod when >= 0).
func (b *builder) writeCopy(ctx context.Context, w io.Writer, st *state, members []member, dest string, destDir bool, uid, gid int, chmod int64) error {
	tw := tar.NewWriter(w)
	written := map[string]bool{}
	if dest != "" && (destDir || len(members) == 0 || members[0].name != dest || members[0].archive) {
		if err := b.writeParents(tw, st, dest+"/x", written); err != nil {
			return err
		}
	}
	for _, m := range members {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := b.writeParents(tw, st, m.name, written); err != nil {
			return err
		}
		if m.archive {
			if err := unpackInto(tw, m, uid, gid, chmod); err != nil {
				return err
			}
			continue
		}
		if err := writeMember(tw, m, uid, gid, chmod); err != nil {
			return err
		}
		written[m.name] = true
	}
	return tw.Close()
}

func writeMember(tw *tar.Writer, m member, uid, gid int, chmod int64) error {
	if m.data != nil {
		mode := m.mode
		if chmod >= 0 {
			mode = chmod
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: m.name, Size: int64(len(m.data)), Mode: mode, Uid: uid, Gid: gid, ModTime: m.mtime, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(m.data)
		return err
	}
	link := ""
	if m.info.Mode()&os.ModeSymlink != 0 {
		l, err := os.Readlink(m.full)
		if err != nil {
			return err
		}
		link = l
	}
	hdr, err := tar.FileInfoHeader(m.info, link)
	if err != nil {
		return err
	}
	hdr.Name, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname, hdr.Format = m.name, uid, gid, "", "", tar.FormatPAX
	hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
	if m.info.IsDir() {
		hdr.Name += "/"
	}
	if chmod >= 0 && m.info.Mode()&os.ModeSymlink == 0 {
		hdr.Mode = chmod
	}
	if s, ok := m.info.Sys().(*syscall.Stat_t); ok && hdr.Typeflag == tar.TypeReg && s.Nlink > 1 {
		hdr.Typeflag = tar.TypeReg // hard links become copies: the layer holds each path fully
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil
	}
	f, err := os.Open(m.full)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.CopyN(tw, f, hdr.Size)
	return err
}

// unpackInto copies the entries of a local archive ADD under m.name, as docker extracts them
// (owners from the archive unless --chown).
func unpackInto(tw *tar.Writer, m member, uid, gid int, chmod int64) error {
	var src io.Reader
	if m.data != nil {
		src = bytes.NewReader(m.data)
	} else {
		f, err := os.Open(m.full)
		if err != nil {
			return err
		}
		defer f.Close()
		src = f
	}
	rc, err := archive.Decompress(src)
	if err != nil {
		return err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("unpack %s: %w", path.Base(m.full), err)
		}
		clean := path.Clean("/" + hdr.Name)[1:]
		if clean == "" {
			continue
		}
		hdr.Name = path.Join(m.name, clean)
		if hdr.Typeflag == tar.TypeDir {
			hdr.Name += "/"
		}
		if hdr.Typeflag == tar.TypeLink {
			hdr.Linkname = path.Join(m.name, path.Clean("/" + hdr.Linkname)[1:])
		}
		if uid != 0 || gid != 0 {
			hdr.Uid, hdr.Gid = uid, gid
		}
		if chmod >= 0 && hdr.Typeflag != tar.TypeSymlink {
			hdr.Mode = chmod
		}
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}
