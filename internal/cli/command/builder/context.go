package builder

import "io"

// DirContext is the build context `berth build DIR` sends for a directory (.dockerignore
// applied, a Dockerfile outside the directory added under a hidden name) and the Dockerfile
// name to ask for in it; compose builds its services' contexts with it.
func DirContext(dir, dockerfile string) (io.Reader, string, error) {
	return buildContext(nil, dir, dockerfile)
}
