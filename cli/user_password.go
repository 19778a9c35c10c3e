package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// changePasswordOptions are the arguments of `det user change-password`.
type changePasswordOptions struct {
	username string    // "" for one's own
	master   string    // the bridge's address, as given
	tokens   tokenFile // where the token is kept
}

func newChangePasswordCmd(g *globals) *cobra.Command {
	o := &changePasswordOptions{}
	return &cobra.Command{
		Use:   "change-password [USERNAME]",
		Short: "Change your password (asks for the current one) or, as an admin, reset anyone's",
		Long: "Change your password: asks for your current password and the new one, and logs out your other sessions.\n" +
			"An admin naming another user sets that user's password without the old one and logs out all of that user's sessions.\n" +
			"From a pipe, the current password and the new one are read one per line.",
		Args: cobra.MaximumNArgs(1),
		RunE: g.runE(func(ctx context.Context, c bridgeClient, args []string) error {
			o.username, o.master, o.tokens = "", g.master, g.tokens
			if len(args) == 1 {
				o.username = args[0]
			}
			return runChangePassword(ctx, *o, c, g.con)
		}),
	}
}

// changeOwn changes one's own password with the current one. The change
// logs out every other session, the saved one too: the token of the login
// it made is kept in its place.
func changeOwn(ctx context.Context, o changePasswordOptions, c bridgeClient, name, old, pass string) error {
	tok, err := c.ChangeOwnPassword(ctx, name, old, pass)
	if err != nil {
		return err
	}
	if saved := o.tokens.load(o.master); saved.Username == name {
		if err := o.tokens.save(o.master, savedToken{Username: name, Token: tok}); err != nil {
			return fmt.Errorf("the password of %s is changed, but its new session was not saved (log in again): %w", name, err)
		}
	}
	return nil
}

// runChangePassword asks for the passwords and changes the user's. One's
// own is changed only after the current password is checked, unless one
// is a remote user, who has none.
func runChangePassword(ctx context.Context, o changePasswordOptions, c bridgeClient, con *console) error {
	me, err := c.Me(ctx)
	if err != nil {
		return err
	}
	name := me.Username
	if o.username != "" {
		name = o.username
	}
	self := name == me.Username
	check := self && !me.Remote
	var old string
	if check {
		if old, err = con.readSecret(fmt.Sprintf("Current password for user '%s': ", name)); err != nil {
			return err
		}
	}
	pass, err := con.readSecret(fmt.Sprintf("New password for user '%s': ", name))
	if err != nil {
		return err
	}
	if con.onTerminal() {
		again, err := con.readSecret(fmt.Sprintf("Confirm the new password for user '%s': ", name))
		if err != nil {
			return err
		}
		if again != pass {
			return fmt.Errorf("the passwords do not match; the password of %s is unchanged", name)
		}
	}
	if check {
		err = changeOwn(ctx, o, c, name, old, pass)
	} else {
		err = c.ChangePassword(ctx, name, "", pass)
	}
	if err != nil {
		return err
	}
	if self {
		fmt.Fprintf(con.Out, "Password of %s changed; your other sessions are logged out.\n", name)
	} else {
		fmt.Fprintf(con.Out, "Password of %s set; all of %s's sessions are logged out.\n", name, name)
	}
	return nil
}
