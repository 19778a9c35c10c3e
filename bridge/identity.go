package bridge

import (
	"fmt"
	"os/user"
	"strconv"

	"github.com/det-slurm/bridge/siteconfig"
)

// daemonAccounts are the accounts of the cluster's own daemons: no bridge
// user is ever linked to them (nor to an account with their uid), whatever
// the site's min_uid, since a job running as one of them could forge munge
// credentials or rewrite Slurm's state.
var daemonAccounts = [...]string{"slurm", "munge"}

// The nobody accounts: the kernel's overflow uid, and the older NFS one.
const (
	overflowUID  = 65534
	nfsNobodyUID = 4294967294
)

// lookupUser finds a POSIX account by name, through the Server's hook when
// set (tests), else os/user.
func (s *Server) lookupUser(name string) (*user.User, error) {
	if s.lookupPosix != nil {
		return s.lookupPosix(name)
	}
	return user.Lookup(name)
}

// refuseAccount says why the POSIX account name (uid) may not run a bridge
// user's jobs nor log in with munge, naming the rule; "" when it may.
func (s *Server) refuseAccount(name string, uid int) string {
	minUID := s.cfg.MinUID
	if minUID <= 0 {
		minUID = siteconfig.DefaultMinUID
	}
	if uid == 0 {
		return fmt.Sprintf("POSIX user %s is root (uid 0): notebooks never run as root; link a person's own account", name)
	}
	for _, d := range daemonAccounts {
		if name == d {
			return fmt.Sprintf("POSIX user %s is the %s daemon's account, which never runs notebooks; link a person's own account", name, d)
		}
		if pu, err := s.lookupUser(d); err == nil && pu.Uid == strconv.Itoa(uid) {
			return fmt.Sprintf("POSIX user %s has uid %d, the uid of the %s daemon's account, which never runs notebooks; link a person's own account", name, uid, d)
		}
	}
	if uid == overflowUID || uid == nfsNobodyUID {
		return fmt.Sprintf("POSIX user %s has uid %d, the nobody account that NFS maps root to (root_squash), so its files are root's files there; link a person's own account", name, uid)
	}
	if uid < minUID {
		return fmt.Sprintf("POSIX user %s has uid %d, below the site's min_uid %d: system accounts never run notebooks; link a person's own account (or lower min_uid in the site config)", name, uid, minUID)
	}
	return ""
}
