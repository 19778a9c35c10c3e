package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/api"
)

// linkAgentUserOptions are the arguments of `det user
// link-with-agent-user`: the uid and gid are sent only when given.
type linkAgentUserOptions struct {
	username string
	link     api.AgentUserGroup
}

func newLinkAgentUserCmd(g *globals) *cobra.Command {
	o := &linkAgentUserOptions{}
	var uid, gid int
	cmd := &cobra.Command{
		Use:   "link-with-agent-user USERNAME --agent-user POSIX",
		Short: "Link a user to the POSIX account its notebooks run as (admin only)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.link.AgentUser == "" {
				return fmt.Errorf("--agent-user is required")
			}
			o.username = args[0]
			if cmd.Flags().Changed("agent-uid") {
				o.link.AgentUID = &uid
			}
			if cmd.Flags().Changed("agent-gid") {
				o.link.AgentGID = &gid
			}
			return g.runE(func(ctx context.Context, c bridgeClient, _ []string) error {
				return runLinkAgentUser(ctx, *o, c, g.con)
			})(cmd, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.link.AgentUser, "agent-user", "", "POSIX user name")
	f.IntVar(&uid, "agent-uid", 0, "POSIX uid (checked against the host)")
	f.StringVar(&o.link.AgentGroup, "agent-group", "", "POSIX group")
	f.IntVar(&gid, "agent-gid", 0, "POSIX gid")
	return cmd
}

// runLinkAgentUser links the user to the POSIX account.
func runLinkAgentUser(ctx context.Context, o linkAgentUserOptions, c bridgeClient, con *console) error {
	link := o.link
	if _, err := c.PatchUserByName(ctx, o.username, api.PatchUser{AgentUserGroup: &link}); err != nil {
		return err
	}
	fmt.Fprintf(con.Out, "Linked %s to POSIX user %s.\n", o.username, o.link.AgentUser)
	return nil
}
