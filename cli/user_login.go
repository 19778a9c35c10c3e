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

// logoutOptions are the arguments of `det user logout`.
type logoutOptions struct {
	master string
	tokens tokenFile
}

func newLogoutCmd(g *globals) *cobra.Command {
	o := &logoutOptions{}
	return &cobra.Command{
		Use:   "logout",
		Short: "Revoke and forget the stored token",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.master, o.tokens = g.master, g.tokens
			var c bridgeClient
			if t := o.tokens.load(o.master); t.Token != "" {
				c = g.newClient(g.master, t.Token)
			}
			return runLogout(cmd.Context(), *o, c, g.con)
		},
	}
}

// runLogout revokes the saved token with c (nil when there is none) and
// forgets it; a bridge that cannot revoke it does not stop that.
func runLogout(ctx context.Context, o logoutOptions, c bridgeClient, _ *console) error {
	if c != nil {
		_ = c.Logout(ctx)
	}
	return o.tokens.forget(o.master)
}

func newWhoamiCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Print the user you are logged in as",
		Args:  cobra.NoArgs,
		RunE: g.runE(func(ctx context.Context, c bridgeClient, _ []string) error {
			return runWhoami(ctx, c, g.con)
		}),
	}
}

// runWhoami prints the user c is logged in as. It has no options.
func runWhoami(ctx context.Context, c bridgeClient, con *console) error {
	me, err := c.Me(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(con.Out, "You are logged in as user %q\n", me.Username)
	return nil
}
