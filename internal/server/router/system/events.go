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
	if v := f.Get("container"); len(v) > 0 && m.Type == events.ContainerEventType && !in(v, m.Actor.ID) && !in(v, m.Actor.Attributes["name"]) {
		return false
	}
	return f.MatchLabels("label", m.Actor.Attributes)
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
