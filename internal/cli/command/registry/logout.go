package registry

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/config"
)

// NewLogoutCommand is `berth logout`.
func NewLogoutCommand(c *cli.Cli) *cobra.Command {
	return &cobra.Command{
		Use:   "logout [SERVER]",
		Short: "Log out from a registry",
		Long:  "Log out from a registry.\nIf no server is specified, the default is defined by the daemon.",
		Args:  cli.RequiresMaxArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			server := ""
			if len(args) > 0 {
				server = args[0]
			}
			key := config.ServerKey(server)
			shown := key
			if server != "" {
				shown = server
			}
			found, err := c.ConfigFile().EraseAuth(key)
			if err != nil {
				return err
			}
			if !found {
				fmt.Fprintf(c.Out(), "Not logged in to %s\n", shown)
				return nil
			}
			fmt.Fprintf(c.Out(), "Removing login credentials for %s\n", shown)
			return nil
		},
	}
}
