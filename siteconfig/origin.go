package siteconfig

import (
	"fmt"
	"net/url"
	"strings"
)

// OriginTemplate is a parsed notebook_origin: the origin of notebook id is
// Scheme://Prefix<id>Suffix.
type OriginTemplate struct {
	Scheme, Prefix, Suffix string
}

// Origin returns the browser origin of a notebook.
func (o OriginTemplate) Origin(id string) string {
	return o.Scheme + "://" + o.Prefix + id + o.Suffix
}

// ID returns the notebook id a request's Host names, if it is a notebook
// origin's host.
func (o OriginTemplate) ID(host string) (string, bool) {
	h := strings.ToLower(host)
	if len(h) <= len(o.Prefix)+len(o.Suffix) || !strings.HasPrefix(h, o.Prefix) || !strings.HasSuffix(h, o.Suffix) {
		return "", false
	}
	id := h[len(o.Prefix) : len(h)-len(o.Suffix)]
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return "", false
		}
	}
	return id, true
}

// Under is true when host has the shape of a notebook origin's host
// (prefix and suffix), valid id or not.
func (o OriginTemplate) Under(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return strings.HasPrefix(h, o.Prefix) && strings.HasSuffix(h, o.Suffix)
}

// NotebookOrigins returns the parsed notebook_origin; ok is false in path
// mode.
func (c *Config) NotebookOrigins() (OriginTemplate, bool) {
	if c.NotebookOrigin == "" {
		return OriginTemplate{}, false
	}
	if c.origins != nil && c.origins.raw == c.NotebookOrigin {
		return c.origins.t, true
	}
	o, err := parseOrigin(c.NotebookOrigin)
	return o, err == nil
}

// parsedOrigin is notebook_origin parsed once, when the config is checked.
type parsedOrigin struct {
	raw string
	t   OriginTemplate
}

func parseOrigin(v string) (OriginTemplate, error) {
	u, err := url.Parse(strings.Replace(v, "{id}", "id", 1))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return OriginTemplate{}, fmt.Errorf("notebook_origin: %q is not an http(s) URL such as https://{id}.nb.example.org", v)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return OriginTemplate{}, fmt.Errorf("notebook_origin: %q must be an origin only (scheme and host), without a path", v)
	}
	rest := strings.TrimPrefix(strings.TrimSuffix(v, "/"), u.Scheme+"://")
	pre, suf, ok := strings.Cut(strings.ToLower(rest), "{id}")
	if !ok || strings.Contains(suf, "{id}") || strings.ContainsAny(pre, ":/") || !strings.HasPrefix(suf, ".") {
		return OriginTemplate{}, fmt.Errorf("notebook_origin: %q must hold {id} once, as a label of its host name (for example https://{id}.nb.example.org)", v)
	}
	return OriginTemplate{Scheme: u.Scheme, Prefix: pre, Suffix: suf}, nil
}

// checkNotebookOrigin refuses a notebook_origin that is not a host template
// or whose notebooks would share the bridge's own host.
func (c *Config) checkNotebookOrigin() error {
	if c.NotebookOrigin == "" {
		return nil
	}
	o, err := parseOrigin(c.NotebookOrigin)
	if err != nil {
		return err
	}
	c.origins = &parsedOrigin{raw: c.NotebookOrigin, t: o}
	ext, err := url.Parse(c.ExternalURL)
	if err != nil {
		return nil // external_url's own check names it
	}
	if _, clash := o.ID(strings.ToLower(ext.Host)); clash {
		return fmt.Errorf("notebook_origin: %q matches external_url's host %s; notebooks need hosts of their own", c.NotebookOrigin, ext.Host)
	}
	if o.Scheme != ext.Scheme {
		return fmt.Errorf("notebook_origin: scheme %s differs from external_url's %s; use the same", o.Scheme, ext.Scheme)
	}
	return nil
}
