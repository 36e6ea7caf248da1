package build

import (
	"sync"

	apitypes "github.com/berth-project/berth/api/types"
)

// queue holds a stage's output until it is that stage's turn to be shown, so concurrent stages
// print in Dockerfile order. It is a Reporter.
type queue struct {
	mu      sync.Mutex
	events  []func(Reporter)
	closed  bool
	notify  chan struct{}
	drained chan struct{} // closed once replay has passed everything on
}

func newQueue() *queue {
	return &queue{notify: make(chan struct{}, 1), drained: make(chan struct{})}
}

func (q *queue) push(ev func(Reporter)) {
	q.mu.Lock()
	q.events = append(q.events, ev)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// replay passes events to rep as they come, until the queue is closed and empty.
func (q *queue) replay(rep Reporter) {
	defer close(q.drained)
	for {
		q.mu.Lock()
		evs, closed := q.events, q.closed
		q.events = nil
		q.mu.Unlock()
		for _, ev := range evs {
			ev(rep)
		}
		if closed && len(evs) == 0 {
			return
		}
		if len(evs) == 0 {
			<-q.notify
		}
	}
}

func (q *queue) Line(text string) { q.push(func(r Reporter) { r.Line(text) }) }
func (q *queue) Output(p []byte) {
	c := append([]byte{}, p...)
	q.push(func(r Reporter) { r.Output(c) })
}
func (q *queue) Step(ev apitypes.BuildStep) { q.push(func(r Reporter) { r.Step(ev) }) }
func (q *queue) Aux(v any)                  { q.push(func(r Reporter) { r.Aux(v) }) }
