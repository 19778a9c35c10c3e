package cli

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/det-slurm/bridge/client"
)

func newUserCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Log in and out of the bridge"}
	cmd.AddCommand(&cobra.Command{
		Use:   "login [USERNAME]",
		Short: "Log in and keep a token in ~/.det",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "determined"
			if len(args) == 1 {
				name = args[0]
			}
			pass, err := g.readPassword(name)
			if err != nil {
				return err
			}
			c := client.New(g.master, "")
			tok, err := c.Login(cmd.Context(), name, pass)
			if err != nil {
				return err
			}
			a := g.loadAuth()
			a.Masters[g.masterKey()] = savedToken{Username: name, Token: tok}
			if err := g.saveAuth(a); err != nil {
				return err
			}
			fmt.Fprintf(g.io.Out, "Logged in to %s as %s.\n", g.master, name)
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "logout",
		Short: "Revoke and forget the stored token",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a := g.loadAuth()
			if t, ok := a.Masters[g.masterKey()]; ok {
				_ = client.New(g.master, t.Token).Logout(cmd.Context())
			}
			delete(a.Masters, g.masterKey())
			return g.saveAuth(a)
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "whoami",
		Short: "Print the user you are logged in as",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			me, err := c.Me(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(g.io.Out, "You are logged in as user %q\n", me.Username)
			return nil
		},
	})
	cmd.AddCommand(userAdminCmds(g)...)
	return cmd
}

// readPassword asks for a user's password without echo on a terminal, or
// reads one line from a pipe.
func (g *globals) readPassword(name string) (string, error) {
	return g.readSecret(fmt.Sprintf("Password for user '%s': ", name))
}

// readSecret asks for a secret with prompt without echo on a terminal, or
// reads the next line from a pipe (one line per call).
func (g *globals) readSecret(prompt string) (string, error) {
	if f, ok := g.io.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(g.io.ErrOut, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(g.io.ErrOut)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(b), nil
	}
	if g.in == nil {
		g.in = bufio.NewReader(g.io.In)
	}
	line, err := g.in.ReadString('\n')
	if err != nil && line == "" {
		return "", nil
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// onTerminal reports whether secrets are typed (not piped).
func (g *globals) onTerminal() bool {
	f, ok := g.io.In.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
