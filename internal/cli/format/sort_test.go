package format

import (
	"sort"
	"strings"
	"testing"
)

func TestNaturalLess(t *testing.T) {
	in := []string{"n10", "n2", "bridge", "n02x", "n2a", "443/tcp -> :1", "80/tcp -> [::]:8080", "80/tcp -> 0.0.0.0:8080", "n"}
	sort.Slice(in, func(i, j int) bool { return NaturalLess(in[i], in[j]) })
	want := "80/tcp -> 0.0.0.0:8080|80/tcp -> [::]:8080|443/tcp -> :1|bridge|n|n2|n2a|n02x|n10"
	if got := strings.Join(in, "|"); got != want {
		t.Errorf("sorted: %s\nwant:   %s", got, want)
	}
}
