package container

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth-project/berth/client"
	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/tartree"
	units "github.com/docker/go-units"
	"github.com/moby/term"
	"github.com/spf13/cobra"
)

// Errors of cp, in docker's words.
var (
	errCannotCopyDir = errors.New("cannot copy directory")
	errDirNotExists  = errors.New("no such directory")
)

type copyOptions struct {
	source      string
	destination string
	followLink  bool
	copyUIDGID  bool
	quiet       bool
}

func newCopyCommand(c *cli.Cli, use string) *cobra.Command {
	var o copyOptions
	cmd := &cobra.Command{
		Use:   use + " [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
		Short: "Copy files/folders between a container and the local filesystem",
		Long: `Copy files/folders between a container and the local filesystem

Use '-' as the source to read a tar archive from stdin
and extract it to a directory destination in a container.
Use '-' as the destination to stream a tar archive of a
container source to stdout.`,
		Args: cli.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.source, o.destination = args[0], args[1]
			return runCopy(cmd.Context(), c, o)
		},
	}
	cli.WithAliases(cmd, "container cp, cp")
	flags := cmd.Flags()
	flags.BoolVarP(&o.followLink, "follow-link", "L", false, "Always follow symbol link in SRC_PATH")
	flags.BoolVarP(&o.copyUIDGID, "archive", "a", false, "Archive mode (copy all uid/gid information)")
	flags.BoolVarP(&o.quiet, "quiet", "q", false, "Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached")
	return cmd
}

// splitCopyArg splits CONTAINER:PATH; an absolute path, a path starting with "." or one without
// a colon is local.
func splitCopyArg(arg string) (ctr, p string) {
	if filepath.IsAbs(arg) {
		return "", arg
	}
	ctr, p, ok := strings.Cut(arg, ":")
	if !ok || strings.HasPrefix(ctr, ".") {
		return "", arg
	}
	return ctr, p
}

func runCopy(ctx context.Context, c *cli.Cli, o copyOptions) error {
	srcCtr, srcPath := splitCopyArg(o.source)
	dstCtr, dstPath := splitCopyArg(o.destination)
	switch {
	case srcCtr != "" && dstCtr != "":
		return errors.New("copying between containers is not supported")
	case srcCtr == "" && dstCtr == "":
		return errors.New("must specify at least one container source")
	case srcPath == "":
		return errors.New("source can not be empty")
	case dstPath == "":
		return errors.New("destination can not be empty")
	}
	_, errIsTerm := term.GetFdInfo(c.Err())
	report := func(n int64, dst string) {
		if !o.quiet && errIsTerm {
			fmt.Fprintf(c.Err(), "Successfully copied %s to %s\n", units.HumanSize(float64(n)), dst)
		}
	}
	if srcCtr != "" {
		n, err := copyFromContainer(ctx, c, srcCtr, srcPath, dstPath, o.followLink)
		if err == nil && dstPath != "-" {
			report(n, dstPath)
		}
		return err
	}
	n, err := copyToContainer(ctx, c, srcPath, dstCtr, dstPath, o)
	if err == nil && srcPath != "-" {
		report(n, dstCtr+":"+dstPath)
	}
	return err
}

// archiveRoot is the name the daemon gives the top entry of the archive of p: its base name, or
// "." for "dir/." (the directory's contents).
func archiveRoot(p string) string {
	if p == "/" || strings.HasSuffix(p, "/.") || p == "." {
		return "."
	}
	return path.Base(p)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func copyFromContainer(ctx context.Context, c *cli.Cli, ctr, srcPath, dstPath string, followLink bool) (int64, error) {
	rebase := ""
	if followLink {
		st, err := c.Client().ContainerStatPath(ctx, ctr, srcPath)
		if err == nil && st.Mode&os.ModeSymlink != 0 {
			target := st.LinkTarget
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(srcPath), target)
			}
			rebase = path.Base(srcPath)
			srcPath = target
		}
	}
	content, stat, err := c.Client().CopyFromContainer(ctx, ctr, srcPath)
	if err != nil {
		return 0, err
	}
	defer content.Close()
	counted := &countingReader{r: content}
	if dstPath == "-" {
		_, err := io.Copy(c.Out(), counted)
		return counted.n, err
	}

	root := archiveRoot(srcPath)
	srcIsDir := stat.Mode.IsDir()
	name := root
	if rebase != "" {
		name = rebase
	}

	var target string
	dstInfo, err := os.Stat(dstPath)
	switch {
	case err == nil && dstInfo.IsDir():
		target = dstPath
		if root != "." {
			target = filepath.Join(dstPath, name)
		}
	case err == nil:
		if srcIsDir {
			return 0, errCannotCopyDir
		}
		target = dstPath
	case errors.Is(err, fs.ErrNotExist):
		if !srcIsDir && strings.HasSuffix(dstPath, string(filepath.Separator)) {
			return 0, errDirNotExists
		}
		parent := filepath.Dir(filepath.Clean(dstPath))
		if st, perr := os.Stat(parent); perr != nil {
			return 0, perr
		} else if !st.IsDir() {
			return 0, fmt.Errorf("%s: not a directory", parent)
		}
		target = dstPath
	default:
		return 0, err
	}
	err = extractArchive(counted, root, target)
	return counted.n, err
}

// extractArchive writes the entries of the tar stream r under target: the entry named root
// becomes target itself and the entries below it go below target. Entries cannot escape target,
// not even through symbolic links extracted before them.
func extractArchive(r io.Reader, root, target string) error {
	tr := tar.NewReader(r)
	root = path.Clean(root)
	type dirTimes struct {
		path  string
		mtime time.Time
	}
	var dirs []dirTimes
	relative := func(name string) (string, error) {
		name = path.Clean("/" + name)[1:]
		if name == "" {
			name = "."
		}
		rel := name
		switch {
		case root == ".":
		case name == root:
			rel = "."
		case strings.HasPrefix(name, root+"/"):
			rel = name[len(root)+1:]
		}
		if rel == ".." || strings.HasPrefix(rel, "../") {
			return "", fmt.Errorf("invalid archive entry %q", name)
		}
		return rel, nil
	}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		rel, err := relative(hdr.Name)
		if err != nil {
			return err
		}
		dest := filepath.Join(target, filepath.FromSlash(rel))
		if err := checkNoSymlinkParents(target, rel); err != nil {
			return err
		}
		mode := os.FileMode(hdr.Mode).Perm() | setuidBits(hdr.Mode)
		switch hdr.Typeflag {
		case tar.TypeDir:
			if fi, err := os.Lstat(dest); err == nil && !fi.IsDir() {
				return fmt.Errorf("cannot overwrite non-directory %q with directory %q", dest, hdr.Name)
			}
			if err := os.MkdirAll(dest, 0o755); err != nil {
				return err
			}
			if err := os.Chmod(dest, mode); err != nil {
				return err
			}
			dirs = append(dirs, dirTimes{dest, hdr.ModTime})
		case tar.TypeReg, tar.TypeRegA:
			if err := prepareNonDir(dest, hdr.Name); err != nil {
				return err
			}
			f, err := os.OpenFile(dest, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
			if err != nil {
				return err
			}
			_, cerr := io.Copy(f, tr)
			if err := f.Close(); cerr == nil {
				cerr = err
			}
			if cerr != nil {
				return cerr
			}
			if err := os.Chmod(dest, mode); err != nil {
				return err
			}
			_ = os.Chtimes(dest, hdr.ModTime, hdr.ModTime)
		case tar.TypeSymlink:
			if err := prepareNonDir(dest, hdr.Name); err != nil {
				return err
			}
			if err := os.Symlink(hdr.Linkname, dest); err != nil {
				return err
			}
		case tar.TypeLink:
			linkRel, err := relative(hdr.Linkname)
			if err != nil {
				return err
			}
			if err := checkNoSymlinkParents(target, linkRel); err != nil {
				return err
			}
			if err := prepareNonDir(dest, hdr.Name); err != nil {
				return err
			}
			if err := os.Link(filepath.Join(target, filepath.FromSlash(linkRel)), dest); err != nil {
				return err
			}
		default:
			// Devices, FIFOs and the like are not recreated on the host.
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = os.Chtimes(dirs[i].path, dirs[i].mtime, dirs[i].mtime)
	}
	return nil
}

func setuidBits(mode int64) os.FileMode {
	var m os.FileMode
	if mode&0o4000 != 0 {
		m |= os.ModeSetuid
	}
	if mode&0o2000 != 0 {
		m |= os.ModeSetgid
	}
	if mode&0o1000 != 0 {
		m |= os.ModeSticky
	}
	return m
}

// prepareNonDir makes room for a file at dest: its parent directories exist, a file or link
// already there is removed, a directory is refused.
func prepareNonDir(dest, name string) error {
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	fi, err := os.Lstat(dest)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.IsDir():
		return fmt.Errorf("cannot overwrite directory %q with non-directory %q", dest, name)
	}
	return os.Remove(dest)
}

// checkNoSymlinkParents refuses rel when one of its parent directories below target is a
// symbolic link (it could point outside target).
func checkNoSymlinkParents(target, rel string) error {
	dir := path.Dir(rel)
	if dir == "." || dir == "/" {
		return nil
	}
	cur := target
	for _, part := range strings.Split(dir, "/") {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("refusing to extract %q through the symbolic link %q", rel, cur)
		}
	}
	return nil
}

func copyToContainer(ctx context.Context, c *cli.Cli, srcPath, ctr, dstPath string, o copyOptions) (int64, error) {
	// Where the destination is, following a symbolic link once.
	dst := dstPath
	st, statErr := c.Client().ContainerStatPath(ctx, ctr, dst)
	if statErr == nil && st.Mode&os.ModeSymlink != 0 {
		target := st.LinkTarget
		if !path.IsAbs(target) {
			target = path.Join(path.Dir(dst), target)
		}
		dst = target
		st, statErr = c.Client().ContainerStatPath(ctx, ctr, dst)
	}
	dstExists := statErr == nil
	dstIsDir := dstExists && st.Mode.IsDir()
	if dstExists && !dstIsDir && !st.Mode.IsRegular() {
		return 0, fmt.Errorf(`destination "%s:%s" must be a directory or a regular file`, ctr, dstPath)
	}
	copyOpts := client.CopyToContainerOptions{CopyUIDGID: o.copyUIDGID}

	if srcPath == "-" {
		if !dstIsDir {
			return 0, fmt.Errorf(`destination "%s:%s" must be a directory`, ctr, dstPath)
		}
		return 0, c.Client().CopyToContainer(ctx, ctr, dst, c.In(), copyOpts)
	}

	src := srcPath
	if o.followLink {
		resolved, err := filepath.EvalSymlinks(src)
		if err != nil {
			return 0, err
		}
		src = resolved
	}
	srcInfo, err := os.Lstat(src)
	if err != nil {
		return 0, err
	}
	srcIsDir := srcInfo.IsDir()
	contentsOnly := srcIsDir && (strings.HasSuffix(srcPath, string(filepath.Separator)+".") || srcPath == ".")

	// The directory the archive is extracted in, and the name of the archive's top entry.
	var extractDir, rootName string
	switch {
	case dstIsDir:
		extractDir, rootName = dst, filepath.Base(srcPath)
		if contentsOnly {
			rootName = "."
		}
	case dstExists:
		if srcIsDir {
			return 0, errCannotCopyDir
		}
		extractDir, rootName = path.Dir(dst), path.Base(dst)
	default:
		if !srcIsDir && strings.HasSuffix(dst, "/") {
			return 0, errDirNotExists
		}
		extractDir, rootName = path.Dir(path.Clean(dst)), path.Base(path.Clean(dst))
	}
	pr, pw := io.Pipe()
	counted := &countingReader{r: pr}
	go func() {
		pw.CloseWithError(writeArchive(pw, src, rootName))
	}()
	err = c.Client().CopyToContainer(ctx, ctr, extractDir, counted, copyOpts)
	_ = pr.CloseWithError(io.ErrClosedPipe)
	return counted.n, err
}

// writeArchive writes a tar archive of src whose top entry is named rootName ("." puts the
// contents of the directory src at the top). Hard links within src stay hard links.
func writeArchive(w io.Writer, src, rootName string) error {
	tw := tar.NewWriter(w)
	links := tartree.Links{}
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		name := path.Join(rootName, filepath.ToSlash(rel))
		if name == "." {
			return nil
		}
		hdr, err := tartree.Header(p, name, fi, links)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
