// Package wire is what berth-shim and its clients in berthd must agree on: the
// names of the files and sockets in a shim's state directory, the docker
// json-file log line encoding, the exit record, the stdcopy frame header and a
// tiny decoder for the flat one-line JSON requests the shim accepts.
//
// It imports only small stdlib packages on purpose: berth-shim links it, and
// every page of code the shim touches counts in its resident set.
package wire

import (
	"errors"
	"strconv"
	"time"
	"unicode/utf8"
)

// Files and sockets in a shim's state directory.
const (
	ExitFile      = "exit.json"    // written atomically once the container has exited
	ShimPidFile   = "shim.pid"     // the shim's own pid
	InitPidFile   = "init.pid"     // the container init's pid (runc's --pid-file)
	AttachSocket  = "attach.sock"  // attach streams
	ControlSocket = "control.sock" // resize, close-stdin, start
	ConsoleSocket = "console.sock" // runc's --console-socket, only while creating
	RuntimeLog    = "runtime.log"  // runc --log (json), read for error messages
	ShimLog       = "shim.log"     // the shim's own diagnostics
)

// MaxLogLine is the longest log message: a longer line is split into partial
// messages of this size, as docker's log copier does.
const MaxLogLine = 16 * 1024

// Stream bytes of docker's stdcopy framing.
const (
	Stdin  = 0
	Stdout = 1
	Stderr = 2
)

// StreamName is the json-file "stream" value for a stdcopy stream byte.
func StreamName(s byte) string {
	if s == Stderr {
		return "stderr"
	}
	return "stdout"
}

// PutFrameHeader writes the 8-byte stdcopy header for a payload of n bytes.
func PutFrameHeader(h []byte, stream byte, n int) {
	h[0], h[1], h[2], h[3] = stream, 0, 0, 0
	h[4], h[5], h[6], h[7] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
}

// AppendLogEntry appends one docker json-file line for the message a+b
// (two pieces so that a buffered partial line and the rest of it need no copy):
//
//	{"log":"hello\n","stream":"stdout","time":"2026-01-02T03:04:05.123456789Z"}\n
func AppendLogEntry(dst, a, b []byte, stream string, t time.Time) []byte {
	dst = append(dst, `{"log":"`...)
	dst = appendEscaped(dst, a)
	dst = appendEscaped(dst, b)
	dst = append(dst, `","stream":"`...)
	dst = append(dst, stream...)
	dst = append(dst, `","time":"`...)
	dst = AppendTime(dst, t)
	return append(dst, "\"}\n"...)
}

// AppendTime appends t in UTC in time.RFC3339Nano format.
func AppendTime(dst []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(dst, time.RFC3339Nano)
}

// AppendString appends s as a JSON string, quotes included.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, []byte(s))
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// appendEscaped escapes like docker's json-file writer (and encoding/json):
// quotes, backslashes and control characters; <, > and & as \u00XX; invalid
// UTF-8 as U+FFFD; U+2028 and U+2029 escaped.
func appendEscaped(dst, s []byte) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// AppendExit appends the exit record stored in ExitFile.
func AppendExit(dst []byte, code int, finished time.Time, oomKilled bool) []byte {
	dst = append(dst, `{"exit_code":`...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, `,"finished_at":"`...)
	dst = AppendTime(dst, finished)
	dst = append(dst, `","oom_killed":`...)
	dst = strconv.AppendBool(dst, oomKilled)
	return append(dst, "}\n"...)
}

// Fields is a decoded flat JSON object: string values unescaped, other
// scalars as their literal text; nested objects and arrays are skipped.
type Fields map[string]string

// Str returns the value of key, "" when absent.
func (f Fields) Str(key string) string { return f[key] }

// Bool reports whether key is the literal true.
func (f Fields) Bool(key string) bool { return f[key] == "true" }

// Int returns key as an integer, 0 when absent or not a number.
func (f Fields) Int(key string) int {
	n, _ := strconv.Atoi(f[key])
	return n
}

var errSyntax = errors.New("wire: malformed JSON object")

// ParseObject decodes one flat JSON object such as {"op":"resize","width":80}.
func ParseObject(s []byte) (Fields, error) {
	p := parser{s: s}
	p.space()
	if !p.eat('{') {
		return nil, errSyntax
	}
	f := Fields{}
	p.space()
	if p.eat('}') {
		return f, nil
	}
	for {
		p.space()
		key, ok := p.str()
		if !ok {
			return nil, errSyntax
		}
		p.space()
		if !p.eat(':') {
			return nil, errSyntax
		}
		p.space()
		val, keep, ok := p.value()
		if !ok {
			return nil, errSyntax
		}
		if keep {
			f[key] = val
		}
		p.space()
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			return f, nil
		}
		return nil, errSyntax
	}
}

type parser struct {
	s []byte
	i int
}

func (p *parser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// value parses any JSON value; keep is false for objects and arrays.
func (p *parser) value() (v string, keep, ok bool) {
	if p.i >= len(p.s) {
		return "", false, false
	}
	switch c := p.s[p.i]; {
	case c == '"':
		v, ok = p.str()
		return v, true, ok
	case c == '{' || c == '[':
		return "", false, p.skipNested()
	default:
		start := p.i
		for p.i < len(p.s) {
			c := p.s[p.i]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				break
			}
			p.i++
		}
		if p.i == start {
			return "", false, false
		}
		return string(p.s[start:p.i]), true, true
	}
}

func (p *parser) skipNested() bool {
	depth := 0
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '"':
			if _, ok := p.str(); !ok {
				return false
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				p.i++
				return true
			}
		}
		p.i++
	}
	return false
}

func (p *parser) str() (string, bool) {
	if !p.eat('"') {
		return "", false
	}
	start := p.i
	// Fast path: no escapes.
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '"' {
			v := string(p.s[start:p.i])
			p.i++
			return v, true
		}
		if c == '\\' {
			break
		}
		p.i++
	}
	out := append([]byte(nil), p.s[start:p.i]...)
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return string(out), true
		case c != '\\':
			out = append(out, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.s) {
			return "", false
		}
		e := p.s[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", false
			}
			if r >= 0xd800 && r < 0xdc00 && p.i+1 < len(p.s) && p.s[p.i] == '\\' && p.s[p.i+1] == 'u' {
				save := p.i
				p.i += 2
				if r2, ok := p.hex4(); ok && r2 >= 0xdc00 && r2 < 0xe000 {
					r = (r-0xd800)<<10 | (r2 - 0xdc00) + 0x10000
				} else {
					p.i = save
					r = utf8.RuneError
				}
			} else if r >= 0xd800 && r < 0xe000 {
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", false
		}
	}
	return "", false
}

func (p *parser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	var r rune
	for _, c := range p.s[p.i : p.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}
