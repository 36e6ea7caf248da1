// Package tartree makes tar entries for files on disk the way docker's archives carry them:
// symlinks as links (never followed), directories with a trailing slash, numeric owners only,
// and a file with several links inside one archive as hard links to its first name. It is a
// leaf package, so the CLI (cp, build contexts) and the daemon (container archives, volume
// export) write the same entries without the CLI linking daemon code.
package tartree

import (
	"archive/tar"
	"os"
	"syscall"
)

// Links remembers the first name of each multiply linked file written to one archive.
type Links map[[2]uint64]string

// Header returns the entry for the file at full under name. With links, a regular file already
// written under another name becomes a hard link to it (and its size 0: no content follows).
func Header(full, name string, fi os.FileInfo, links Links) (*tar.Header, error) {
	link := ""
	if fi.Mode()&os.ModeSymlink != 0 {
		var err error
		if link, err = os.Readlink(full); err != nil {
			return nil, err
		}
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return nil, err
	}
	hdr.Name = name
	if fi.IsDir() {
		hdr.Name += "/"
	}
	hdr.Uname, hdr.Gname = "", ""
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		hdr.Uid, hdr.Gid = int(st.Uid), int(st.Gid)
		if links != nil && fi.Mode().IsRegular() && st.Nlink > 1 {
			key := [2]uint64{uint64(st.Dev), st.Ino}
			if first, ok := links[key]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			} else {
				links[key] = hdr.Name
			}
		}
	}
	return hdr, nil
}
