package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/bridge/store"
	"github.com/det-slurm/bridge/siteconfig"
)

// setPasswordOptions are the arguments of `det-bridge set-password`.
type setPasswordOptions struct {
	config string
	user   string
}

func newSetPasswordCmd(g *globalOptions) *cobra.Command {
	o := &setPasswordOptions{}
	return &cobra.Command{
		Use:   "set-password --config SITE.yaml USER",
		Short: "Set a user's password, read from standard input (before the first start, or with the bridge stopped)",
		Args:  namedArgs("USER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.requireConfig(cmd); err != nil {
				return err
			}
			o.config, o.user = g.config, args[0]
			return runSetPassword(cmd.Context(), *o, streamsOf(cmd))
		},
	}
}

// runSetPassword sets the password of o.user to the first line of the
// input, and records it in the audit trail (without the password).
func runSetPassword(ctx context.Context, o setPasswordOptions, s streams) error {
	cfg, err := siteconfig.Load(o.config)
	if err != nil {
		return err
	}
	st, err := store.Open(cfg.DBPath)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.EnsureDefaultUsers(ctx); err != nil {
		return err
	}
	line, err := bufio.NewReader(s.in).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("read the new password from standard input: %w", err)
	}
	pass := strings.TrimRight(line, "\r\n")
	if pass == "" {
		return errors.New("the password is empty")
	}
	if err := st.SetPassword(ctx, o.user, store.Plain(pass)); err != nil {
		return fmt.Errorf("set the password of %s: %w", o.user, err)
	}
	if err := st.AddAudit(ctx, store.Audit{Action: api.AuditUserUpdate, Target: o.user, Detail: "password, set with det-bridge set-password"}); err != nil {
		fmt.Fprintf(s.err, "det-bridge: warning: %v\n", err)
	}
	fmt.Fprintf(s.out, "Password of %s set.\n", o.user)
	return nil
}
