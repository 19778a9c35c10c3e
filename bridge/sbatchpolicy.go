package bridge

import (
	"slices"
	"strings"

	"github.com/det-slurm/bridge/siteconfig"
	"github.com/det-slurm/bridge/taskconfig"
)

// sbatchFamilies are options that decide the same thing under different
// names: a pool that sets one of a family owns them all.
var sbatchFamilies = [][]string{
	{"--mem", "--mem-per-cpu", "--mem-per-gpu"},
	{"--cpus-per-task", "--cpus-per-gpu"},
	{"--nodelist", "--nodefile"},
	{"--exclusive", "--oversubscribe"},
}

// checkPoolSbatch refuses a user's sbatch option that would override one
// the pool sets (its account, QOS, time, ...): the user's options come
// after the pool's, and sbatch keeps the last. An option counts in any
// spelling sbatch takes: short (-Aother), abbreviated (--acc=other), or a
// sibling of the same family (--mem-per-cpu against the pool's --mem). An
// option the pool's allowed_sbatch_args names is the admin's to let users
// change, and passes.
func checkPoolSbatch(pool *siteconfig.Pool, userArgs []string) error {
	var owned []string
	for _, a := range pool.SbatchArgs {
		if name := taskconfig.SbatchOptionName(a); len(name) > 2 {
			owned = append(owned, name)
		}
	}
	for i, a := range userArgs {
		name := taskconfig.SbatchOptionName(a)
		if name == "" || slices.Contains(pool.AllowedSbatchArgs, name) {
			continue
		}
		for _, o := range owned {
			if sameSbatchOption(o, name) {
				return badRequest("slurm.sbatch_args[%d]: %q would override %s, which pool %s sets as its policy; use another pool or ask an admin",
					i, a, o, pool.Name)
			}
		}
	}
	return nil
}

// sameSbatchOption says whether two long option names, either of which may
// be an abbreviation, can set the same thing.
func sameSbatchOption(a, b string) bool {
	if strings.HasPrefix(a, b) || strings.HasPrefix(b, a) {
		return true
	}
	for _, fam := range sbatchFamilies {
		if inFamily(fam, a) && inFamily(fam, b) {
			return true
		}
	}
	return false
}

func inFamily(fam []string, name string) bool {
	for _, m := range fam {
		if strings.HasPrefix(m, name) {
			return true
		}
	}
	return false
}
