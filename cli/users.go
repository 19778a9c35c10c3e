package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// userAdminCmds are the user commands beyond login/logout/whoami.
func userAdminCmds(g *globals) []*cobra.Command {
	var admin bool
	create := &cobra.Command{
		Use:   "create USERNAME",
		Short: "Create a user (admin only); asks for its password",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			pass, err := g.readPassword(args[0])
			if err != nil {
				return err
			}
			if _, err := c.CreateUser(cmd.Context(), args[0], pass, admin); err != nil {
				return err
			}
			fmt.Fprintf(g.io.Out, "Created user %s.\n", args[0])
			return nil
		},
	}
	create.Flags().BoolVar(&admin, "admin", false, "make the user an admin")

	changePassword := &cobra.Command{
		Use:   "change-password [USERNAME]",
		Short: "Change your password (asks for the current one) or, as an admin, reset anyone's",
		Long: "Change your password: asks for your current password and the new one, and logs out your other sessions.\n" +
			"An admin naming another user sets that user's password without the old one and logs out all of that user's sessions.\n" +
			"From a pipe, the current password and the new one are read one per line.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			me, err := c.Me(cmd.Context())
			if err != nil {
				return err
			}
			name := me.Username
			if len(args) == 1 {
				name = args[0]
			}
			return changePasswordRun(cmd, g, c, name, name == me.Username, me.Remote)
		},
	}

	deactivate := &cobra.Command{
		Use:   "deactivate USERNAME",
		Short: "Deactivate a user and revoke its tokens (admin only)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			off := false
			if _, err := c.PatchUserByName(cmd.Context(), args[0], api.PatchUser{Active: &off}); err != nil {
				return err
			}
			fmt.Fprintf(g.io.Out, "Deactivated %s.\n", args[0])
			return nil
		},
	}

	var asJSON bool
	list := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List users",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			users, err := c.Users(cmd.Context(), false)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(g.io.Out).Encode(users)
			}
			tw := tabwriter.NewWriter(g.io.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "Username\tAdmin\tActive\tAgent User\tAgent UID")
			for _, u := range users {
				var agent, uid string
				if a := u.AgentUserGroup; a != nil {
					agent = a.AgentUser
					if a.AgentUID != nil {
						uid = fmt.Sprint(*a.AgentUID)
					}
				}
				fmt.Fprintf(tw, "%s\t%t\t%t\t%s\t%s\n", u.Username, u.Admin, u.Active, agent, uid)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var link api.AgentUserGroup
	var uid, gid int
	linkCmd := &cobra.Command{
		Use:   "link-with-agent-user USERNAME --agent-user POSIX",
		Short: "Link a user to the POSIX account its notebooks run as (admin only)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if link.AgentUser == "" {
				return fmt.Errorf("--agent-user is required")
			}
			if cmd.Flags().Changed("agent-uid") {
				link.AgentUID = &uid
			}
			if cmd.Flags().Changed("agent-gid") {
				link.AgentGID = &gid
			}
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			if _, err := c.PatchUserByName(cmd.Context(), args[0], api.PatchUser{AgentUserGroup: &link}); err != nil {
				return err
			}
			fmt.Fprintf(g.io.Out, "Linked %s to POSIX user %s.\n", args[0], link.AgentUser)
			return nil
		},
	}
	f := linkCmd.Flags()
	f.StringVar(&link.AgentUser, "agent-user", "", "POSIX user name")
	f.IntVar(&uid, "agent-uid", 0, "POSIX uid (checked against the host)")
	f.StringVar(&link.AgentGroup, "agent-group", "", "POSIX group")
	f.IntVar(&gid, "agent-gid", 0, "POSIX gid")
	return []*cobra.Command{create, changePassword, deactivate, list, linkCmd}
}

// changePasswordRun asks for the passwords and changes name's. One's own
// (self) is changed only after the current password is checked, unless
// one is a remote user, who has none.
func changePasswordRun(cmd *cobra.Command, g *globals, c *client.Client, name string, self, remote bool) error {
	var old, pass string
	var err error
	check := self && !remote
	if check {
		if old, err = g.readSecret(fmt.Sprintf("Current password for user '%s': ", name)); err != nil {
			return err
		}
	}
	if pass, err = g.readSecret(fmt.Sprintf("New password for user '%s': ", name)); err != nil {
		return err
	}
	if g.onTerminal() {
		again, err := g.readSecret(fmt.Sprintf("Confirm the new password for user '%s': ", name))
		if err != nil {
			return err
		}
		if again != pass {
			return fmt.Errorf("the passwords do not match; the password of %s is unchanged", name)
		}
	}
	if check {
		err = c.ChangeOwnPassword(cmd.Context(), name, old, pass)
	} else {
		err = c.ChangePassword(cmd.Context(), name, "", pass)
	}
	if err != nil {
		return err
	}
	if self {
		fmt.Fprintf(g.io.Out, "Password of %s changed; your other sessions are logged out.\n", name)
	} else {
		fmt.Fprintf(g.io.Out, "Password of %s set; all of %s's sessions are logged out.\n", name, name)
	}
	return nil
}
