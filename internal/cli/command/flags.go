package command

import (
	"errors"
	"strings"
)

// hostList is the -H flag: repeatable, shown as "list" in help like docker's.
type hostList struct{ target *[]string }

func (h *hostList) String() string { return strings.Join(*h.target, ",") }

func (h *hostList) Set(v string) error {
	*h.target = append(*h.target, v)
	return nil
}

func (h *hostList) Type() string { return "list" }

// asStatus is errors.As for cli.StatusError values.
func asStatus[T error](err error, target *T) bool { return errors.As(err, target) }
