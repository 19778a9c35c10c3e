package proc

import (
	"fmt"
	"os"
	"path/filepath"
)

// nginxConf proxies everything on listen to the backend, keeping 256 idle
// upstream connections, without response buffering (as in front of
// Jupyter), and injects the notebook token as the bridge does.
const nginxConf = `worker_processes auto;
worker_rlimit_nofile 20000;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  upstream backend {
    server %[3]s;
    keepalive 256;
  }
  map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      '';
  }
  server {
    listen %[2]s;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_buffering off;
      proxy_set_header Host $host;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      %[4]s
      proxy_read_timeout 1h;
    }
  }
}
`

// Nginx starts nginx on listen in front of upstream (host:port), its
// files in dir. auth is the Authorization value sent upstream ("" to pass
// the client's).
func Nginx(dir, listen, upstream, auth string) (*Proc, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	authLine := ""
	if auth != "" {
		authLine = fmt.Sprintf("proxy_set_header Authorization %q;", auth)
	}
	conf := fmt.Sprintf(nginxConf, dir, listen, upstream, authLine)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	return Start("nginx", filepath.Join(dir, "nginx.log"), nil,
		"nginx", "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", path, "-g", "daemon off;")
}
