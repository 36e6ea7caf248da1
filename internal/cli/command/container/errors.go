package container

import (
	"context"
	"fmt"
	"strings"

	"github.com/berth-project/berth/internal/cli"
)

// Exit statuses of run, as docker's.
const (
	exitEngine     = 125 // the daemon or the CLI failed
	exitCannotRun  = 126 // the command cannot be invoked
	exitNotFound   = 127 // the command was not found
	exitFlagsUsage = 125
)

// withHelp frames a failure of verb the way docker's run and create report theirs.
func withHelp(bin, verb, text string) string {
	return fmt.Sprintf("%s: %s\n\nRun '%s %s --help' for more information", bin, text, bin, verb)
}

// usageError is a bad flag value found after parsing: exit status 125.
func usageError(bin, verb string, err error) error {
	return cli.StatusError{Status: withHelp(bin, verb, err.Error()), StatusCode: exitFlagsUsage}
}

// runStatusError turns a failure to create or start the container of `run` into docker's exit
// status: 127 when the daemon says the command does not exist, 126 when it cannot be invoked,
// else 125.
func runStatusError(bin string, err error) error {
	text := cli.ErrorText(err)
	code := exitEngine
	switch {
	case strings.Contains(text, "executable file not found") || strings.Contains(text, "no such file or directory") ||
		strings.Contains(text, "system cannot find the file specified"):
		code = exitNotFound
	case strings.Contains(text, "permission denied") || strings.Contains(text, "is a directory"):
		code = exitCannotRun
	}
	return cli.StatusError{Status: withHelp(bin, "run", text), StatusCode: code}
}

// maxParallel bounds how many containers a multi-container command handles at once.
const maxParallel = 16

// forEach applies fn to every ref, several at a time. It prints each ref that succeeded, in the
// order given, and returns the failures together (exit status 1), one per line as the CLI prints
// errors.
func forEach(ctx context.Context, c *cli.Cli, refs []string, fn func(ctx context.Context, ref string) error) error {
	return forEachRef(ctx, c, refs, func(ctx context.Context, ref string) (bool, error) {
		err := fn(ctx, ref)
		return err == nil, err
	})
}

// forEachRef is forEach where fn also says whether to print the reference.
func forEachRef(ctx context.Context, c *cli.Cli, refs []string, fn func(ctx context.Context, ref string) (bool, error)) error {
	type result struct {
		print bool
		err   error
	}
	results := make([]chan result, len(refs))
	sem := make(chan struct{}, maxParallel)
	for i, ref := range refs {
		results[i] = make(chan result, 1)
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			p, err := fn(ctx, ref)
			results[i] <- result{p, err}
		}()
	}
	var failures []string
	for i, ref := range refs {
		r := <-results[i]
		switch {
		case r.err != nil:
			failures = append(failures, cli.ErrorText(r.err))
		case r.print:
			fmt.Fprintln(c.Out(), ref)
		}
	}
	if len(failures) > 0 {
		return cli.StatusError{StatusCode: 1, Status: strings.Join(failures, "\n")}
	}
	return nil
}
