package suite

import (
	"context"
	"fmt"
	"time"

	"github.com/det-slurm/bridge/api"
	"github.com/det-slurm/bridge/client"
)

// mine are the notebooks the suite started; all are killed at the end.
type mine struct {
	e    *env
	c    *client.Client
	ids  []string // every notebook started
	live []string // those not killed yet
}

// add records a notebook started elsewhere.
func (m *mine) add(id string) {
	m.ids = append(m.ids, id)
	m.live = append(m.live, id)
}

// start submits notebooks until n are live.
func (m *mine) start(ctx context.Context, n int) error {
	for len(m.live) < n {
		nb, err := m.c.StartNotebook(ctx, cpuNotebook, nil)
		if err != nil {
			return fmt.Errorf("start notebook %d: %w", len(m.live)+1, err)
		}
		m.add(nb.ID)
	}
	return nil
}

func (m *mine) kill(id string) {
	for i, l := range m.live {
		if l == id {
			m.live = append(m.live[:i:i], m.live[i+1:]...)
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := m.c.KillNotebook(ctx, id); err != nil {
		m.e.logf("kill notebook %s: %v", id, err)
	}
}

// killAll kills every notebook started and waits (up to a minute) until
// the bridge has seen them all end, so the next user of the cluster finds
// it empty.
func (m *mine) killAll() {
	for _, id := range m.ids {
		m.kill(id)
	}
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		left := 0
		for _, id := range m.ids {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			nb, err := m.c.Notebook(ctx, id)
			cancel()
			if err == nil && nb.State != api.StateTerminated {
				left++
			}
		}
		if left == 0 {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	m.e.logf("some of the notebooks started are not TERMINATED after a minute")
}

// states counts the live notebooks by state (as people read it: RUNNING)
// and returns their Slurm job ids.
func (m *mine) states(ctx context.Context) (map[string]int, []string, error) {
	count := map[string]int{}
	var jobs []string
	for _, id := range m.live {
		nb, err := m.c.Notebook(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		count[api.StateName(nb.State)]++
		if nb.SlurmJobID != "" && !api.Terminal(nb.State) {
			jobs = append(jobs, nb.SlurmJobID)
		}
	}
	return count, jobs, nil
}
