package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// loginOptions are the arguments of `det user login`.
type loginOptions struct {
	username string
	master   string    // the bridge's address, as given
	tokens   tokenFile // where the token is kept
}

func newLoginCmd(g *globals) *cobra.Command {
	o := &loginOptions{}
	return &cobra.Command{
		Use:   "login [USERNAME]",
		Short: "Log in and keep a token in ~/.det",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.username, o.master, o.tokens = "determined", g.master, g.tokens
			if len(args) == 1 {
				o.username = args[0]
			}
			return runLogin(cmd.Context(), *o, g.newClient(g.master, ""), g.con)
		},
	}
}

// runLogin asks for the user's password, logs in with c (not logged in)
// and keeps the token.
func runLogin(ctx context.Context, o loginOptions, c bridgeClient, con *console) error {
	pass, err := con.readPassword(o.username)
	if err != nil {
		return err
	}
	tok, err := c.Login(ctx, o.username, pass)
	if err != nil {
		return err
	}
	if err := o.tokens.save(o.master, savedToken{Username: o.username, Token: tok}); err != nil {
		return err
	}
	fmt.Fprintf(con.Out, "Logged in to %s as %s.\n", o.master, o.username)
	return nil
}
