package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/bridge/api"
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
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/users", api.CreateUserRequest{Username: args[0], Password: pass, Admin: admin}, nil); err != nil {
				return err
			}
			fmt.Fprintf(g.io.Out, "Created user %s.\n", args[0])
			return nil
		},
	}
	create.Flags().BoolVar(&admin, "admin", false, "make the user an admin")

	changePassword := &cobra.Command{
		Use:   "change-password [USERNAME]",
		Short: "Change your password (admins: anyone's)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd.Context())
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			} else {
				var me api.User
				if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/me", nil, &me); err != nil {
					return err
				}
				name = me.Username
			}
			pass, err := g.readPassword(name)
			if err != nil {
				return err
			}
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/users/"+url.PathEscape(name)+"/password", api.PasswordRequest{Password: pass}, nil); err != nil {
				return err
			}
			fmt.Fprintf(g.io.Out, "Password of %s changed.\n", name)
			return nil
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
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/users/"+url.PathEscape(args[0])+"/deactivate", nil, nil); err != nil {
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
			var users []api.User
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/users", nil, &users); err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(g.io.Out).Encode(users)
			}
			tw := tabwriter.NewWriter(g.io.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "Username\tAdmin\tActive\tAgent User\tAgent UID")
			for _, u := range users {
				uid := ""
				if u.AgentUID != nil {
					uid = fmt.Sprint(*u.AgentUID)
				}
				fmt.Fprintf(tw, "%s\t%t\t%t\t%s\t%s\n", u.Username, u.Admin, u.Active, u.AgentUser, uid)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var link api.LinkRequest
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
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/users/"+url.PathEscape(args[0])+"/link", link, nil); err != nil {
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
