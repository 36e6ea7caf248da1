package metadata

import (
	"os"
	"path/filepath"
)

// WriteFile replaces path with data atomically: it writes a temporary file beside it, syncs it,
// renames it over path and syncs the directory, so readers see the old or the new content, never a mix.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return replace(path, data, perm, true)
}

// ReplaceFile is WriteFile without the syncs: still atomic against a crash of the process, but
// a power loss may bring back the previous content. It suits state that means nothing after a
// reboot anyway, such as which container is running with which pid, and that changes on every
// start, exit and health check, where two fsyncs cost milliseconds on a busy disk.
func ReplaceFile(path string, data []byte, perm os.FileMode) error {
	return replace(path, data, perm, false)
}

func replace(path string, data []byte, perm os.FileMode, sync bool) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err = f.Write(data); err == nil {
		err = f.Chmod(perm)
	}
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil || !sync {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
