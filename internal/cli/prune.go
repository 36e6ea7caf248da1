package cli

import "context"

// ConfirmPrune asks warning before a prune unless force; a refusal is a CancelledError with
// reason, which ends the CLI quietly as docker does.
func (c *Cli) ConfirmPrune(ctx context.Context, force bool, warning, reason string) error {
	if force {
		return nil
	}
	ok, err := c.Confirm(ctx, warning)
	if err != nil {
		return err
	}
	if !ok {
		return CancelledError{Reason: reason}
	}
	return nil
}
