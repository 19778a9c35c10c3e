package bridge

import (
	"errors"
	"net/http"
	"strings"

	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/slurm"
)

// refusalHints say what to do about Slurm's reasons for refusing a job
// (the text sbatch prints after "Batch job submission failed: "), first
// match wins. {user}, {partition} and {pool} are filled in.
var refusalHints = []struct{ reason, hint string }{
	{"Invalid account or account/partition combination",
		"POSIX user {user} has no Slurm account that may use partition {partition}: ask your site's admin to add you to one, or name one of your accounts with slurm.sbatch_args --account=NAME (`sacctmgr show assoc user={user}` lists them)"},
	{"Invalid qos specification",
		"name a QOS your account may use with slurm.sbatch_args --qos=NAME, or leave --qos out to get your default (`sacctmgr show assoc user={user} format=account,qos` lists them)"},
	{"Requested node configuration is not available",
		"no node of partition {partition} has what the notebook asks for (GPUs, CPUs, memory or features): ask for less, or use another pool (resources.resource_pool; `det resource-pool list` shows them)"},
	{"Invalid partition name specified",
		"partition {partition} of pool {pool} does not exist in Slurm: tell your site's admin, whose site config names it"},
	{"Job violates accounting/QOS policy",
		"your account's or QOS's limits do not allow this notebook now (jobs, GPUs or time): kill a notebook you no longer use, or ask for less"},
	{"Requested time limit is invalid",
		"ask for less time with slurm.sbatch_args --time=... within the limit of partition {partition} (`sinfo -p {partition} -o %l` shows it)"},
	{"Invalid generic resource (gres) specification",
		"Slurm does not know this GPU request: check resources.slots and slurm.gpu_type against `det resource-pool list`"},
	{"Memory required by task is not available",
		"ask for less memory with slurm.sbatch_args --mem=..."},
	{"not permitted to use this partition",
		"you may not use partition {partition}: use another pool, or ask your site's admin for access"},
}

const defaultRefusalHint = "change what the notebook asks for (resources, slurm.sbatch_args; `det notebook start --preview` shows the merged config), or ask your site's admin"

// submitFailure is what the user reads when sbatch queued no job: Slurm's
// own line, once, and what to do. A controller that did not answer is a
// 503 (try again); anything else a 400. The userError wraps err.
func submitFailure(err error, posixUser string, pool *siteconfig.Pool) *userError {
	said := err.Error()
	if se := slurm.Said(nil); errors.As(err, &se) {
		said = se.Error()
	}
	if slurm.ControllerTrouble(err) {
		return &userError{code: http.StatusServiceUnavailable, err: err,
			msg: "the Slurm controller did not answer, so the notebook was not started; try again in a minute (" + said + ")"}
	}
	hint := defaultRefusalHint
	for _, h := range refusalHints {
		if strings.Contains(said, h.reason) {
			hint = h.hint
			break
		}
	}
	hint = strings.NewReplacer("{user}", posixUser, "{partition}", pool.Partition, "{pool}", pool.Name).Replace(hint)
	return &userError{code: http.StatusBadRequest, err: err, msg: "Slurm refused the job: " + said + ". To fix: " + hint + "."}
}
