// Package api is the bridge's REST contract: the JSON types of its API,
// in Determined's shapes, shared by the bridge, its Go client, the CLI and
// det-launcher. It imports nothing of the project, so each side sees it
// alone; the contract between the bridge and a job is package jobspec.
package api
