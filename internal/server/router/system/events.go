package system

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/moby/moby/api/types/events"

	"github.com/berth-project/berth/api/filters"
	"github.com/berth-project/berth/internal/errdefs"
)

// eventMatches applies docker's event filters: type and event exactly, the object filters
// (container, volume, network, daemon) as a prefix of the actor's ID or name whatever the event's
// type, image as the actor's image with or without its tag, and labels.
func eventMatches(m events.Message, f filters.Args) bool {
	if v := f.Get("type"); len(v) > 0 && !in(v, string(m.Type)) {
		return false
	}
	if v := f.Get("event"); len(v) > 0 {
		action, _, _ := strings.Cut(string(m.Action), ":")
		if !in(v, action) && !in(v, string(m.Action)) {
			return false
		}
	}
	for _, key := range []string{"container", "volume", "network", "daemon"} {
		if v := f.Get(key); len(v) > 0 && !hasPrefixIn(v, m.Actor.ID) && !hasPrefixIn(v, m.Actor.Attributes["name"]) {
			return false
		}
	}
	if v := f.Get("image"); len(v) > 0 {
		name := m.Actor.Attributes["image"]
		if m.Type == events.ImageEventType {
			name = m.Actor.Attributes["name"]
		}
		if !in(v, m.Actor.ID) && !in(v, name) && !in(v, stripTag(m.Actor.ID)) && !in(v, stripTag(name)) {
			return false
		}
	}
	return f.MatchLabels("label", m.Actor.Attributes)
}

func hasPrefixIn(list []string, s string) bool {
	for _, v := range list {
		if s != "" && strings.HasPrefix(s, v) {
			return true
		}
	}
	return false
}

// stripTag is an image reference without its tag ("busybox:1" -> "busybox").
func stripTag(ref string) string {
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		return ref[:i]
	}
	return ref
}

func in(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (rt *Router) events(w http.ResponseWriter, r *http.Request, _ map[string]string) error {
	q := r.URL.Query()
	now := time.Now()
	since, err := filters.ParseTimestamp(q.Get("since"), now)
	if err != nil {
		return errdefs.As(errdefs.InvalidArgument, err)
	}
	until, err := filters.ParseTimestamp(q.Get("until"), now)
	if err != nil {
		return errdefs.As(errdefs.InvalidArgument, err)
	}
	f, err := filters.Parse(q.Get("filters"))
	if err != nil {
		return errdefs.As(errdefs.InvalidArgument, err)
	}
	past, live, cancel := rt.backend.SubscribeEvents(since)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flush := func() {
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
	}
	flush()
	enc := json.NewEncoder(w)
	send := func(m events.Message) bool {
		if !until.IsZero() && m.TimeNano > until.UnixNano() {
			return false
		}
		if eventMatches(m, f) {
			if enc.Encode(m) != nil {
				return false
			}
			flush()
		}
		return true
	}
	for _, m := range past {
		if !send(m) {
			return nil
		}
	}
	var deadline <-chan time.Time
	if !until.IsZero() {
		timer := time.NewTimer(time.Until(until))
		defer timer.Stop()
		deadline = timer.C
	}
	for {
		select {
		case m := <-live:
			if !send(m) {
				return nil
			}
		case <-deadline:
			return nil
		case <-r.Context().Done():
			return nil
		}
	}
}
