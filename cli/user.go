package cli

import "github.com/spf13/cobra"

// newUserCmd is `det user`: accounts, each verb its own command.
func newUserCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Log in and out of the bridge"}
	cmd.AddCommand(newLoginCmd(g), newLogoutCmd(g), newWhoamiCmd(g), newCreateUserCmd(g), newChangePasswordCmd(g),
		newDeactivateCmd(g), newListUsersCmd(g), newLinkAgentUserCmd(g))
	return cmd
}
