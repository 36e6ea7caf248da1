package dockerfile

import (
	"fmt"
	"strings"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

// DefaultShell is what shell-form commands run with unless SHELL changes it.
var DefaultShell = []string{"/bin/sh", "-c"}

// Nop is the created_by of a metadata instruction, as the classic builder records it: the shell,
// "#(nop) " and the text, joined by spaces (so two spaces precede the text).
func Nop(shell []string, text string) string {
	return strings.Join(append(append([]string{}, shell...), "#(nop) ", text), " ")
}

// NopCopy is the created_by of COPY and ADD: "#(nop) " glued to the text (one space).
func NopCopy(shell []string, text string) string {
	return strings.Join(append(append([]string{}, shell...), "#(nop) "+text), " ")
}

// Run is the created_by of RUN: the command, preceded by "|N k=v ..." when build arguments
// beyond ENV were in scope.
func Run(cmd []string, vars []string) string {
	if len(vars) == 0 {
		return strings.Join(cmd, " ")
	}
	return strings.Join(append(append([]string{fmt.Sprintf("|%d", len(vars))}, vars...), cmd...), " ")
}

// Quoted formats a list as docker's history does with %q: ["a" "b"].
func Quoted(list []string) string { return fmt.Sprintf("%q", list) }

// Healthcheck is the created_by text of HEALTHCHECK: docker formats its HealthConfig with %q, which
// quotes the durations and shows the retry count as a rune.
func Healthcheck(h *dockerspec.HealthcheckConfig) string {
	return fmt.Sprintf("HEALTHCHECK &{%q %q %q %q %q %q}", h.Test, h.Interval.String(), h.Timeout.String(),
		h.StartPeriod.String(), h.StartInterval.String(), rune(h.Retries))
}
