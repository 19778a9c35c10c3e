package siteconfig

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Slurmrestd is how the bridge reaches a cluster whose slurm_interface is
// rest: slurmrestd's address, the cluster's JWT key (its
// AuthAltParameters=jwt_key), with which the bridge signs a short token per
// user, and the Slurm user it queries and cancels as.
type Slurmrestd struct {
	// URL is http://host:port, https://host:port or unix:/path/to/socket.
	URL string `yaml:"url"`
	// JWTKey is the key file's path, relative to the site config's folder
	// when relative.
	JWTKey string `yaml:"jwt_key"`
	// User is the Slurm user for queries, cancels and time limits: root,
	// the SlurmUser or an operator; root when unset.
	User string `yaml:"user"`
	// Timeout bounds each request ("15s" when unset).
	Timeout string `yaml:"timeout"`
	// TimeoutDuration is Timeout parsed.
	TimeoutDuration time.Duration `yaml:"-"`
}

// checkInterface checks a cluster's slurm_interface and slurmrestd:
// where names the cluster in errors ("" for the top level, the local
// cluster; "clusters[N]." for another).
func checkInterface(where string, iface *string, r *Slurmrestd) error {
	switch *iface {
	case "":
		*iface = SlurmInterfaceCLI
	case SlurmInterfaceCLI, SlurmInterfaceREST:
	default:
		return fmt.Errorf("%sslurm_interface: %q is neither %q nor %q", where, *iface, SlurmInterfaceCLI, SlurmInterfaceREST)
	}
	if *iface == SlurmInterfaceCLI {
		if r != nil {
			return fmt.Errorf("%sslurmrestd: given, but slurm_interface is %q; set slurm_interface: %q to use it", where, *iface, SlurmInterfaceREST)
		}
		return nil
	}
	if r == nil {
		return fmt.Errorf("%sslurmrestd: slurm_interface %q needs url, jwt_key and user", where, SlurmInterfaceREST)
	}
	u, err := url.Parse(r.URL)
	switch {
	case strings.HasPrefix(r.URL, "unix:/"):
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%sslurmrestd.url: %q is not http://host:port, https://host:port or unix:/path", where, r.URL)
	}
	if r.JWTKey == "" {
		return fmt.Errorf("%sslurmrestd.jwt_key: required (the file of the cluster's AuthAltParameters=jwt_key)", where)
	}
	if r.User == "" {
		r.User = "root"
	}
	r.TimeoutDuration = 15 * time.Second
	if r.Timeout != "" {
		d, err := time.ParseDuration(r.Timeout)
		if err != nil || d < time.Second || d > 5*time.Minute {
			return fmt.Errorf("%sslurmrestd.timeout: %q is not a duration from 1s to 5m", where, r.Timeout)
		}
		r.TimeoutDuration = d
	}
	return nil
}

// slurmrestdKeys are the jwt_key paths of the config, to make relative
// ones relative to its folder.
func (c *Config) slurmrestdKeys() []*string {
	var keys []*string
	if c.Slurmrestd != nil {
		keys = append(keys, &c.Slurmrestd.JWTKey)
	}
	for i := range c.Clusters {
		if r := c.Clusters[i].Slurmrestd; r != nil {
			keys = append(keys, &r.JWTKey)
		}
	}
	return keys
}

// InterfaceOf returns how the bridge reaches cluster name ("" the local
// one): its slurm_interface, and its slurmrestd for rest.
func (c *Config) InterfaceOf(name string) (string, *Slurmrestd) {
	if name == "" {
		return c.SlurmInterface, c.Slurmrestd
	}
	for _, cl := range c.Clusters {
		if cl.Name == name {
			return cl.SlurmInterface, cl.Slurmrestd
		}
	}
	return SlurmInterfaceCLI, nil
}
