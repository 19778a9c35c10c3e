package proc

import (
	"net"
	"path/filepath"
)

// CHP starts configurable-http-proxy (from bench/node_modules) on listen
// with target as its default route. auth, when set, is sent upstream as
// the Authorization header.
func CHP(benchDir, logDir, listen, target, auth string) (*Proc, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, err
	}
	api, err := FreePort()
	if err != nil {
		return nil, err
	}
	_, apiPort, _ := net.SplitHostPort(api)
	args := []string{"node", filepath.Join(benchDir, "node_modules", "configurable-http-proxy", "bin", "configurable-http-proxy"),
		"--ip", host, "--port", port, "--api-ip", "127.0.0.1", "--api-port", apiPort,
		"--default-target", target, "--log-level", "warn"}
	if auth != "" {
		args = append(args, "--custom-header", "Authorization:"+auth)
	}
	return Start("configurable-http-proxy", filepath.Join(logDir, "chp.log"),
		[]string{"CONFIGPROXY_AUTH_TOKEN=bench"}, args...)
}
