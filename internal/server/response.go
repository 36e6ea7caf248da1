package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/docker/go-units"

	"github.com/berth-project/berth/api/types"
)

// WriteJSON writes v as the JSON body with status code.
func WriteJSON(w http.ResponseWriter, code int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	return json.NewEncoder(w).Encode(v)
}

// WriteError writes err as docker's {"message": ...} body with the mapped status.
func WriteError(w http.ResponseWriter, err error) {
	code := StatusOf(err)
	if code == http.StatusNotModified {
		w.WriteHeader(code)
		return
	}
	_ = WriteJSON(w, code, types.ErrorResponse{Message: err.Error()})
}

// BoolValue reads a boolean query parameter the way docker does ("", "0", "false", "no" are false).
func BoolValue(r *http.Request, name string) bool {
	switch v := r.URL.Query().Get(name); v {
	case "", "0", "false", "no", "False", "FALSE":
		return false
	default:
		return true
	}
}

// IntValue reads an integer query parameter, def when absent.
func IntValue(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("invalid value for %s: %q", name, v)
	}
	return n, nil
}

// JSONStream writes newline-delimited JSON messages, flushing each so clients render progress live.
// After the first message the status is sent, so a later failure travels as an error message.
type JSONStream struct {
	mu      sync.Mutex
	w       http.ResponseWriter
	started bool
}

// NewJSONStream starts a stream on w.
func NewJSONStream(w http.ResponseWriter) *JSONStream { return &JSONStream{w: w} }

// Send writes one message.
func (s *JSONStream) Send(m types.JSONMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		s.w.Header().Set("Content-Type", "application/json")
		s.w.WriteHeader(http.StatusOK)
		s.started = true
	}
	_ = json.NewEncoder(s.w).Encode(m)
	if f, ok := s.w.(http.Flusher); ok {
		f.Flush()
	}
}

// Finish ends the stream: with err nil nothing more is sent; otherwise the error goes out as a plain
// error reply if nothing was streamed yet, else as an error message.
func (s *JSONStream) Finish(err error) {
	if err == nil {
		s.mu.Lock()
		started := s.started
		s.mu.Unlock()
		if !started {
			s.Send(types.JSONMessage{})
		}
		return
	}
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if !started {
		WriteError(s.w, err)
		return
	}
	s.Send(types.JSONMessage{Error: &types.JSONError{Message: err.Error()}, ErrorMessage: err.Error()})
}

// Line sends a text line as a stream message.
func (s *JSONStream) Line(text string) { s.Send(types.JSONMessage{Stream: text + "\n"}) }

// Status sends a status message, about item id when id is not empty.
func (s *JSONStream) Status(id, text string) { s.Send(types.JSONMessage{ID: id, Status: text}) }

// Aux sends a machine-readable result, such as a push's digest.
func (s *JSONStream) Aux(v any) { s.Send(types.JSONMessage{Aux: v}) }

// Layer sends per-layer progress, with a text bar for clients that do not draw their own.
func (s *JSONStream) Layer(id, action string, current, total int64) {
	s.Send(types.JSONMessage{ID: id, Status: action, Progress: &types.ProgressDetail{Current: current, Total: total}, ProgressMessage: progressBar(current, total)})
}

func progressBar(current, total int64) string {
	if total <= 0 {
		return ""
	}
	const width = 50
	n := int(current * width / total)
	if n > width {
		n = width
	}
	bar := make([]byte, width)
	for i := range bar {
		switch {
		case i < n:
			bar[i] = '='
		case i == n:
			bar[i] = '>'
		default:
			bar[i] = ' '
		}
	}
	return fmt.Sprintf("[%s] %s/%s", bar, units.HumanSize(float64(current)), units.HumanSize(float64(total)))
}
