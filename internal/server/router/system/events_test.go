package system

import (
	"testing"

	"github.com/moby/moby/api/types/events"

	"github.com/berth-project/berth/api/filters"
)

// TestEventMatches: docker's event filter semantics.
func TestEventMatches(t *testing.T) {
	ctr := events.Message{Type: events.ContainerEventType, Action: "health_status: healthy",
		Actor: events.Actor{ID: "abcdef0123", Attributes: map[string]string{"name": "web", "image": "busybox:1", "l": "v"}}}
	vol := events.Message{Type: events.VolumeEventType, Action: "mount",
		Actor: events.Actor{ID: "data", Attributes: map[string]string{"container": "abcdef0123"}}}
	img := events.Message{Type: events.ImageEventType, Action: "tag",
		Actor: events.Actor{ID: "sha256:99", Attributes: map[string]string{"name": "busybox:1"}}}
	for _, tc := range []struct {
		filter string
		m      events.Message
		want   bool
	}{
		{`{"container":{"web":true}}`, ctr, true},
		{`{"container":{"abc":true}}`, ctr, true}, // an ID prefix
		{`{"container":{"we":true}}`, ctr, true},  // names match by prefix too, as docker's fuzzy match
		{`{"container":{"db":true}}`, ctr, false},
		{`{"container":{"web":true}}`, vol, false}, // other types do not slip through
		{`{"volume":{"data":true}}`, vol, true},
		{`{"event":{"health_status":true}}`, ctr, true},
		{`{"type":{"volume":true}}`, ctr, false},
		{`{"image":{"busybox":true}}`, ctr, true},
		{`{"image":{"busybox":true}}`, img, true},
		{`{"image":{"alpine":true}}`, img, false},
		{`{"label":{"l=v":true}}`, ctr, true},
		{`{"label":{"l=w":true}}`, ctr, false},
	} {
		f, err := filters.Parse(tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		if got := eventMatches(tc.m, f); got != tc.want {
			t.Errorf("%s on %s %s: %v, want %v", tc.filter, tc.m.Type, tc.m.Action, got, tc.want)
		}
	}
}
