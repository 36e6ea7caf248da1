package runtime

import "testing"

func TestNormalizeMessage(t *testing.T) {
	for in, want := range map[string]string{
		"executable file `nosuch` not found in $PATH: No such file or directory":                 `exec: "nosuch": executable file not found in $PATH`,
		"open executable: Operation not permitted":                                               "open executable: permission denied",
		`runc create failed: unable to start container process: exec: "/etc": permission denied`: `runc create failed: unable to start container process: exec: "/etc": permission denied`,
		"Operation not permitted": "Operation not permitted", // not about the executable: left alone
	} {
		if got := NormalizeMessage(in); got != want {
			t.Errorf("NormalizeMessage(%q) = %q, want %q", in, got, want)
		}
	}
}
