package siteconfig

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Mapped says what became of one field of a Determined master.yaml, or of
// a bridge setting no field of it gives (Field "").
type Mapped struct {
	Field string // Determined's dotted path, e.g. resource_manager.job_storage_root
	Line  int    // the field's line; 0 for a setting no field gives
	To    string // "job_storage_root = /x", or "unused (why)"
}

// String is the line check-config prints.
func (m Mapped) String() string {
	f := m.Field
	if f == "" {
		f = "(not in master.yaml)"
	}
	return f + " -> " + m.To
}

// Paths the bridge uses when a master.yaml, which has no field for them,
// is its config. executable is os.Executable, and hostname os.Hostname
// (variables for the tests).
var (
	defaultDBPath = "/var/lib/det-bridge/bridge.db"
	executable    = os.Executable
	hostname      = os.Hostname
)

// isDeterminedMaster says whether the document is a Determined master.yaml:
// it has a resource_manager, or resource_pools entries with a provider.
func isDeterminedMaster(root *yaml.Node) bool {
	doc := topMapping(root)
	if doc == nil {
		return false
	}
	if hasKey(doc, "resource_manager") {
		return true
	}
	if pools := deref(child(doc, "resource_pools")); pools != nil && pools.Kind == yaml.SequenceNode {
		for _, p := range pools.Content {
			if hasKey(p, "provider") {
				return true
			}
		}
	}
	return false
}

// topMapping returns the document's top-level mapping, or nil.
func topMapping(root *yaml.Node) *yaml.Node {
	doc := deref(root)
	if doc != nil && doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = deref(doc.Content[0])
	}
	if doc == nil || doc.Kind != yaml.MappingNode {
		return nil
	}
	return doc
}

// setting is a value read from a master.yaml with the field it came from;
// a zero field means the file does not set it.
type setting[T any] struct {
	v T
	f field
}

func (s *setting[T]) put(v T, f field) { s.v, s.f = v, f }
func (s setting[T]) set() bool         { return s.f.path != "" }

// master gathers the settings of a Determined master.yaml and then builds
// the bridge's Config from them, noting how each field was taken.
type master struct {
	dir    string // the file's folder: relative paths are relative to it
	c      *Config
	mapped []Mapped

	port            setting[int]
	notebookTimeout setting[int]
	baseURL         setting[string]
	sharedFS        setting[string]
	rm              *resourceManager
	tcd             *containerDefaults
	pools           []*hpcPool
	poolNotesList   []*poolNote
}

// note records what became of a field.
func (m *master) note(f field, format string, a ...any) {
	m.mapped = append(m.mapped, Mapped{Field: f.path, Line: f.line, To: fmt.Sprintf(format, a...)})
}

// unused accepts a field (and all under it) that means nothing here.
func (m *master) unused(why string) func(field) error {
	return func(f field) error {
		m.note(f, "unused (%s)", why)
		return nil
	}
}

// unusedTop are the top-level fields of a master.yaml that mean nothing to
// the bridge, with the reason check-config gives.
var unusedTop = map[string]string{
	"db":                           "the bridge keeps its state in SQLite at db_path",
	"logging":                      "task logs stay in each job's folder",
	"telemetry":                    "the bridge sends no telemetry",
	"observability":                "the bridge has no Prometheus routes",
	"cluster_name":                 "the bridge has no cluster name",
	"config_file":                  "the file is the one given with --config",
	"log":                          "the bridge logs to standard error",
	"tensorboard_timeout":          "the bridge runs no TensorBoards",
	"root":                         "the bridge serves its own WebUI",
	"cache":                        "the bridge keeps no file cache",
	"enable_cors":                  "a Determined master feature the bridge does not have",
	"launch_error":                 "a Determined master feature the bridge does not have",
	"retention_policy":             "a Determined master feature the bridge does not have",
	"feature_switches":             "a Determined master feature the bridge does not have",
	"reserved_ports":               "a Determined master feature the bridge does not have",
	"scim":                         "a Determined master feature the bridge does not have",
	"saml":                         "a Determined master feature the bridge does not have",
	"oidc":                         "a Determined master feature the bridge does not have",
	"det_cloud":                    "a Determined master feature the bridge does not have",
	"integrations":                 "a Determined master feature the bridge does not have",
	"__internal":                   "a Determined master feature the bridge does not have",
	"additional_resource_managers": "the bridge drives only the Slurm resource_manager",
}

// fromDetermined maps a Determined master.yaml to a Config (before its
// defaults and checks); dir is the file's folder.
func fromDetermined(root *yaml.Node, dir string) (*Config, error) {
	m := &master{dir: dir, c: &Config{}}
	hs := handlers{
		"resource_manager":        m.readResourceManager,
		"resource_pools":          m.readPools,
		"task_container_defaults": func(f field) (err error) { m.tcd, err = m.readDefaults(f); return err },
		"port":                    m.readPort,
		"notebook_timeout":        m.readNotebookTimeout,
		"security":                m.readSecurity,
		"webhooks":                m.readWebhooks,
		"checkpoint_storage":      m.readCheckpointStorage,
	}
	for name, why := range unusedTop {
		hs[name] = m.unused(why)
	}
	if err := walk(field{v: topMapping(root)}, hs, nil); err != nil {
		return nil, err
	}
	if err := m.build(); err != nil {
		return nil, err
	}
	sort.SliceStable(m.mapped, func(i, j int) bool { return lineOrder(m.mapped[i]) < lineOrder(m.mapped[j]) })
	m.c.Determined = m.mapped
	return m.c, nil
}

// lineOrder sorts the fields in file order, settings no field gives last.
func lineOrder(m Mapped) int {
	if m.Line == 0 {
		return math.MaxInt
	}
	return m.Line
}

func (m *master) readPort(f field) error {
	p, err := integer(f)
	if err != nil {
		return err
	}
	if p < 1 || p > 65535 {
		return errAt(f.line, "port: %d is not a TCP port", p)
	}
	m.port.put(p, f)
	return nil
}

func (m *master) readNotebookTimeout(f field) error {
	s, err := integer(f)
	if err != nil {
		return err
	}
	if s < 0 {
		return errAt(f.line, "notebook_timeout: %d seconds is negative", s)
	}
	m.notebookTimeout.put(s, f)
	return nil
}

func (m *master) readSecurity(f field) error {
	return walk(f, handlers{
		"default_task":          m.unused("a notebook runs only as its user's linked POSIX account: det user link-with-agent-user"),
		"ssh":                   m.unused("shells here need no SSH keys"),
		"authz":                 m.unused("the bridge has users and admins only"),
		"initial_user_password": m.unused("set the passwords with det-bridge set-password"),
		"tls": func(g field) error {
			for _, k := range []string{"cert", "key"} {
				if v := child(g.v, k); !isNull(v) && deref(v).Value != "" {
					return errAt(g.line, "security.tls: the bridge does not serve TLS itself; serve it behind a TLS proxy, remove security.tls and give the proxy's URL as webhooks.base_url")
				}
			}
			m.note(g, "unused (no certificate given)")
			return nil
		},
	}, nil)
}

func (m *master) readWebhooks(f field) error {
	return walk(f, handlers{
		"base_url": func(g field) error {
			v, err := str(g)
			m.baseURL.put(strings.TrimSuffix(v, "/"), g)
			return err
		},
		"signing_key": m.unused("the bridge sends no webhooks"),
	}, nil)
}

// readCheckpointStorage takes a shared_fs storage's host_path as the shared
// folder every notebook sees at ./shared_fs, as Determined's notebooks do.
func (m *master) readCheckpointStorage(f field) error {
	typ, _ := str(field{path: f.path + ".type", v: child(f.v, "type")})
	if typ != "shared_fs" {
		m.note(f, "unused (notebooks keep no checkpoints here)")
		return nil
	}
	return walk(f, handlers{
		"type": func(g field) error {
			m.note(g, "shared_fs: its host_path is the notebooks' shared folder")
			return nil
		},
		"host_path": func(g field) error {
			v, err := str(g)
			m.sharedFS.put(v, g)
			return err
		},
	}, func(string) func(field) error { return m.unused("notebooks keep no checkpoints here") })
}

// build makes the Config from what was read.
func (m *master) build() error {
	c := m.c
	if m.rm == nil {
		return errAt(1, "resource_manager: missing; the bridge maps a master.yaml whose resource_manager has type: slurm")
	}
	port := 8080
	if m.port.set() {
		port = m.port.v
	}
	c.Listen = fmt.Sprintf(":%d", port)
	m.note(m.port.f, "listen = %s (all interfaces, as Determined's master)", c.Listen)
	host, err := hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	if m.baseURL.set() {
		c.ExternalURL = m.baseURL.v
		m.note(m.baseURL.f, "external_url = %s", c.ExternalURL)
	} else {
		c.ExternalURL = fmt.Sprintf("http://%s:%d", host, port)
		m.note(field{}, "external_url = %s (give the URL users open as webhooks.base_url)", c.ExternalURL)
	}
	m.buildCallback(host, port)
	c.DBPath = defaultDBPath
	m.note(field{}, "db_path = %s", c.DBPath)
	c.LauncherPath = "det-launcher"
	if exe, err := executable(); err == nil {
		c.LauncherPath = filepath.Join(filepath.Dir(exe), "det-launcher")
	}
	m.note(field{}, "launcher_path = %s (beside det-bridge; it must be at this path on every node)", c.LauncherPath)
	if m.notebookTimeout.set() {
		if s := m.notebookTimeout.v; s > 0 {
			c.NotebookTimeout = seconds(s)
			m.note(m.notebookTimeout.f, "notebook_timeout = %s", c.NotebookTimeout)
		} else {
			m.note(m.notebookTimeout.f, "notebook_timeout unset (notebooks are idle-killed only when they ask)")
		}
	}
	if m.sharedFS.set() && m.sharedFS.v != "" {
		c.SharedFSPath = m.abs(m.sharedFS.v)
		c.AllowedBindPrefixes = append(c.AllowedBindPrefixes, c.SharedFSPath)
		m.note(m.sharedFS.f, "shared_fs_path = %s (at ./shared_fs in every notebook; users may bind under it)", c.SharedFSPath)
	}
	if err := m.buildResourceManager(); err != nil {
		return err
	}
	if err := m.buildSiteDefaults(); err != nil {
		return err
	}
	return m.buildPools()
}

// buildCallback sets callback_url, what compute nodes reach the bridge at,
// from master_host and master_port; without them it is external_url.
func (m *master) buildCallback(host string, port int) {
	rm := m.rm
	if !rm.masterHost.set() && !rm.masterPort.set() {
		return
	}
	if rm.masterHost.set() && rm.masterHost.v != "" {
		host = rm.masterHost.v
	}
	if rm.masterPort.set() && rm.masterPort.v != 0 {
		port = rm.masterPort.v
	}
	m.c.CallbackURL = fmt.Sprintf("http://%s:%d", host, port)
	for _, f := range []field{rm.masterHost.f, rm.masterPort.f} {
		if f.path != "" {
			m.note(f, "callback_url = %s (what compute nodes reach)", m.c.CallbackURL)
		}
	}
}

// abs makes a path from the file absolute, relative to its folder.
func (m *master) abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(m.dir, p)
}

// seconds shows a whole number of seconds as a duration.
func seconds(s int) string {
	switch {
	case s%3600 == 0:
		return fmt.Sprintf("%dh", s/3600)
	case s%60 == 0:
		return fmt.Sprintf("%dm", s/60)
	}
	return fmt.Sprintf("%ds", s)
}
