package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// listUsersOptions are the flags of `det user list`.
type listUsersOptions struct {
	json bool
}

func newListUsersCmd(g *globals) *cobra.Command {
	o := &listUsersOptions{}
	cmd := newListVerb(g, "List users", &o.json, "print JSON", func(ctx context.Context, c bridgeClient) error {
		return runListUsers(ctx, *o, c, g.con)
	})
	return cmd
}

// runListUsers prints every user: a table, or JSON on one line.
func runListUsers(ctx context.Context, o listUsersOptions, c bridgeClient, con *console) error {
	users, err := c.Users(ctx, false)
	if err != nil {
		return err
	}
	if o.json {
		return json.NewEncoder(con.Out).Encode(users)
	}
	tw := tabwriter.NewWriter(con.Out, 0, 4, 2, ' ', 0)
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
}
