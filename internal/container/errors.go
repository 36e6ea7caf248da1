package container

import "github.com/berth-project/berth/internal/errdefs"

func errInvalidDetachKeys(spec string) error {
	return errdefs.InvalidArgumentf("invalid detach keys (%s): use comma-separated keys such as ctrl-p,ctrl-q", spec)
}
