package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// createUserOptions are the arguments of `det user create`.
type createUserOptions struct {
	username string
	admin    bool
}

func newCreateUserCmd(g *globals) *cobra.Command {
	o := &createUserOptions{}
	cmd := &cobra.Command{
		Use:   "create USERNAME",
		Short: "Create a user (admin only); asks for its password",
		Args:  cobra.ExactArgs(1),
		RunE: g.runE(func(ctx context.Context, c bridgeClient, args []string) error {
			o.username = args[0]
			return runCreateUser(ctx, *o, c, g.con)
		}),
	}
	cmd.Flags().BoolVar(&o.admin, "admin", false, "make the user an admin")
	return cmd
}

// runCreateUser asks for the new user's password and creates it.
func runCreateUser(ctx context.Context, o createUserOptions, c bridgeClient, con *console) error {
	pass, err := con.readPassword(o.username)
	if err != nil {
		return err
	}
	if _, err := c.CreateUser(ctx, o.username, pass, o.admin); err != nil {
		return err
	}
	fmt.Fprintf(con.Out, "Created user %s.\n", o.username)
	return nil
}
