// Package events is berthd's event bus: services emit what they did, /events subscribers receive it
// live, and a bounded backlog answers `since` queries.
package events

import (
	"sync"
	"time"

	"github.com/moby/moby/api/types/events"
)

const backlog = 1024

// Bus fans events out to subscribers.
type Bus struct {
	mu   sync.Mutex
	past []events.Message
	subs map[chan events.Message]struct{}
}

// New returns an empty bus.
func New() *Bus { return &Bus{subs: map[chan events.Message]struct{}{}} }

// Emit records one event. A subscriber too slow to keep up loses events rather than stalling the emitter.
func (b *Bus) Emit(typ, action, id string, attrs map[string]string) {
	now := time.Now()
	m := events.Message{Type: events.Type(typ), Action: events.Action(action), Actor: events.Actor{ID: id, Attributes: attrs},
		Scope: "local", Time: now.Unix(), TimeNano: now.UnixNano()}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.past = append(b.past, m)
	if len(b.past) > backlog {
		b.past = b.past[len(b.past)-backlog:]
	}
	for ch := range b.subs {
		select {
		case ch <- m:
		default:
		}
	}
}

// Subscribe returns the recorded events since the given time and a channel of new ones; cancel ends it.
func (b *Bus) Subscribe(since time.Time) ([]events.Message, <-chan events.Message, func()) {
	ch := make(chan events.Message, 256)
	b.mu.Lock()
	var old []events.Message
	if !since.IsZero() {
		for _, m := range b.past {
			if m.TimeNano >= since.UnixNano() {
				old = append(old, m)
			}
		}
	}
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	return old, ch, func() {
		b.mu.Lock()
		delete(b.subs, ch)
		b.mu.Unlock()
	}
}
