package client

import "strings"

// APIPrefix is the prefix of every route of the bridge's REST API.
const APIPrefix = "/api/v1"

// Path is the path of the API route made of parts, as in
// Path("notebooks", id, "kill") = "/api/v1/notebooks/<id>/kill". The
// parts are joined with "/" as they are, not escaped: the methods escape
// what they put in, and a test can build a malformed or hostile path on
// purpose (Path("..") + Path("me") = "/api/v1/../api/v1/me").
func Path(parts ...string) string {
	return APIPrefix + "/" + strings.Join(parts, "/")
}
