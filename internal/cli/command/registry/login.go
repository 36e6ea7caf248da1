// Package registry holds the login and logout commands. The daemon only checks credentials
// (POST /auth); the CLI keeps them in config.json or a credential helper, as docker does.
package registry

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	apiregistry "github.com/moby/moby/api/types/registry"
	"github.com/moby/term"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/internal/cli"
	"github.com/berth-project/berth/internal/cli/config"
)

type loginOptions struct {
	server        string
	user          string
	password      string
	passwordStdin bool
}

// NewLoginCommand is `berth login`.
func NewLoginCommand(c *cli.Cli) *cobra.Command {
	var o loginOptions
	cmd := &cobra.Command{
		Use:   "login [OPTIONS] [SERVER]",
		Short: "Authenticate to a registry",
		Long:  "Authenticate to a registry.\nDefaults to Docker Hub if no server is specified.",
		Args:  cli.RequiresMaxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.server = args[0]
			}
			return runLogin(cmd.Context(), c, o)
		},
	}
	flags := cmd.Flags()
	flags.StringVarP(&o.user, "username", "u", "", "Username")
	flags.StringVarP(&o.password, "password", "p", "", "Password or Personal Access Token (PAT)")
	flags.BoolVar(&o.passwordStdin, "password-stdin", false, "Take the Password or Personal Access Token (PAT) from stdin")
	return cmd
}

func runLogin(ctx context.Context, c *cli.Cli, o loginOptions) error {
	if o.password != "" {
		fmt.Fprintln(c.Err(), "WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
		if o.passwordStdin {
			return errors.New("--password and --password-stdin are mutually exclusive")
		}
	}
	if o.passwordStdin {
		if o.user == "" {
			return errors.New("Must provide --username with --password-stdin")
		}
		raw, err := io.ReadAll(c.In())
		if err != nil {
			return err
		}
		o.password = strings.TrimSuffix(strings.TrimSuffix(string(raw), "\n"), "\r")
	}
	key := config.ServerKey(o.server)
	cf := c.ConfigFile()
	if o.user == "" && o.password == "" {
		// Stored credentials that still work need no prompt.
		if stored, err := cf.GetAuth(key); err == nil && stored != (config.AuthConfig{}) {
			if _, err := login(ctx, c, key, stored); err == nil {
				fmt.Fprintln(c.Out(), "Login Succeeded")
				return nil
			}
		}
	}
	if err := prompt(c, &o); err != nil {
		return err
	}
	a := config.AuthConfig{Username: o.user, Password: o.password}
	resp, err := login(ctx, c, key, a)
	if err != nil {
		return err
	}
	if resp.IdentityToken != "" {
		a.Password, a.IdentityToken = "", resp.IdentityToken
	}
	if err := cf.StoreAuth(key, a); err != nil {
		return err
	}
	if cf.CredentialsStore == "" && cf.CredentialHelpers[key] == "" {
		fmt.Fprintf(c.Err(), "WARNING! Your credentials are stored unencrypted in '%s'.\nConfigure a credential helper to remove this warning. See\nhttps://docs.docker.com/go/credential-store/\n\n", cf.Filename)
	}
	fmt.Fprintln(c.Out(), "Login Succeeded")
	return nil
}

func login(ctx context.Context, c *cli.Cli, key string, a config.AuthConfig) (apiregistry.AuthResponse, error) {
	return c.Client().RegistryLogin(ctx, apiregistry.AuthConfig{
		Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken, ServerAddress: key,
	})
}

// prompt asks on the terminal for what the flags did not give.
func prompt(c *cli.Cli, o *loginOptions) error {
	if o.user != "" && o.password != "" {
		return nil
	}
	if !c.In().IsTerminal() {
		return errors.New("Cannot perform an interactive login from a non TTY device")
	}
	in := bufio.NewReader(c.In())
	if o.user == "" {
		fmt.Fprint(c.Out(), "Username: ")
		line, err := in.ReadString('\n')
		if err != nil {
			return err
		}
		if o.user = strings.TrimSpace(line); o.user == "" {
			return errors.New("Error: Non-null Username Required")
		}
	}
	if o.password == "" {
		state, err := term.SaveState(c.In().FD())
		if err != nil {
			return err
		}
		fmt.Fprint(c.Out(), "Password: ")
		_ = term.DisableEcho(c.In().FD(), state)
		line, err := in.ReadString('\n')
		_ = term.RestoreTerminal(c.In().FD(), state)
		fmt.Fprintln(c.Out())
		if err != nil {
			return err
		}
		if o.password = strings.TrimRight(line, "\r\n"); o.password == "" {
			return errors.New("Error: Password Required")
		}
	}
	return nil
}
