package cli

import (
	"context"

	"github.com/spf13/cobra"
)

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
