// Package errdefs is berth's one vocabulary of error classes. Services wrap their errors in a class;
// the HTTP server maps classes to status codes in one place and the client maps them back.
package errdefs

import (
	"errors"
	"fmt"
)

// Class is the kind of failure, independent of transport.
type Class int

const (
	Unknown Class = iota
	NotFound
	InvalidArgument
	Conflict
	Unauthorized
	Forbidden
	Unavailable
	NotModified
	NotImplemented
)

type classed struct {
	class Class
	err   error
}

func (e *classed) Error() string { return e.err.Error() }
func (e *classed) Unwrap() error { return e.err }

func wrap(c Class, format string, args ...any) error {
	return &classed{class: c, err: fmt.Errorf(format, args...)}
}

// ClassOf reports the class of the outermost classed error in err's chain.
func ClassOf(err error) Class {
	var c *classed
	if errors.As(err, &c) {
		return c.class
	}
	return Unknown
}

// As gives err the class c, keeping its message and chain.
func As(c Class, err error) error {
	if err == nil {
		return nil
	}
	return &classed{class: c, err: err}
}

func NotFoundf(format string, args ...any) error { return wrap(NotFound, format, args...) }
func InvalidArgumentf(format string, args ...any) error {
	return wrap(InvalidArgument, format, args...)
}
func Conflictf(format string, args ...any) error       { return wrap(Conflict, format, args...) }
func Unauthorizedf(format string, args ...any) error   { return wrap(Unauthorized, format, args...) }
func Forbiddenf(format string, args ...any) error      { return wrap(Forbidden, format, args...) }
func Unavailablef(format string, args ...any) error    { return wrap(Unavailable, format, args...) }
func NotImplementedf(format string, args ...any) error { return wrap(NotImplemented, format, args...) }

func IsNotFound(err error) bool        { return ClassOf(err) == NotFound }
func IsInvalidArgument(err error) bool { return ClassOf(err) == InvalidArgument }
func IsConflict(err error) bool        { return ClassOf(err) == Conflict }
