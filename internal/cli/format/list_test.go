package format

import "testing"

func TestListText(t *testing.T) {
	for _, c := range []struct {
		flag, cfg string
		quiet     bool
		want      string
	}{
		{"{{.ID}}", "{{.Name}}", false, "{{.ID}}"},
		{"", "{{.Name}}", false, "{{.Name}}"},
		{"", "{{.Name}}", true, TableKey},
		{"", "", false, TableKey},
	} {
		if got := ListText(c.flag, c.cfg, c.quiet); got != c.want {
			t.Errorf("ListText(%q, %q, %v) = %q, want %q", c.flag, c.cfg, c.quiet, got, c.want)
		}
	}
}
