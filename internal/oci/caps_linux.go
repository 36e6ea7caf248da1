package oci

import "golang.org/x/sys/unix"

// BoundingCapabilities reads the calling process's capability bounding set
// (for Input.BoundingCaps): the most a container can be given.
func BoundingCapabilities() ([]string, error) {
	var out []string
	for i, name := range allCapabilities {
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(i), 0, 0, 0)
		if err == unix.EINVAL {
			break // past the kernel's last capability
		}
		if err != nil {
			return nil, err
		}
		if in == 1 {
			out = append(out, name)
		}
	}
	return out, nil
}
