package suite

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/det-slurm/bridge/bench/internal/report"
)

// explainTunnelRate says, from this run's CPU per request and the tunnel
// bridge's profile, why tunnel mode's rate or added latency missed its
// target.
func (e *env) explainTunnelRate(f func(string) float64) string {
	const prof = "tunnel-1k-c32"
	cpu := func(p string) float64 { return f("http.static.1k.c32.cpu." + p) }
	job := f("http.static.1k.c32.jobcpu." + pTunnel)
	direct := cpu(pBridge) + cpu(pDirect)
	tunnel := cpu(pTunnel) + job + cpu(pDirect)
	ratio := func(c int) float64 {
		return safeDiv(f(fmt.Sprintf("http.static.1k.c%d.rps.%s", c, pTunnel)), f(fmt.Sprintf("http.static.1k.c%d.rps.%s", c, pBridge)))
	}
	added := func(key string) string {
		return report.Format(f(key+"."+pTunnel)-f(key+"."+pBridge), "us")
	}
	var b strings.Builder
	b.WriteString("### Not met: tunnel mode throughput / added latency\n\n")
	b.WriteString("In tunnel mode a request crosses one more process and two more sockets: the bridge's transport writes it into a " +
		"yamux stream, the session's send goroutine writes the frame to the tunnel's one TCP connection, the job's end reads it in " +
		"its session's receive goroutine and hands it to the stream's reader, which writes it to the backend; the answer comes back " +
		"the same way. That is four goroutine hand-offs and two socket hops per request more than direct mode.\n\n")
	fmt.Fprintf(&b, "CPU per 1 KiB request at 32 connections: the bridge in tunnel mode %s against %s in direct mode, the job's end %s, "+
		"the backend %s. The load generator, the backend, the bridge and, in tunnel mode, the job's end share this machine's %d CPUs, "+
		"so the rates follow the processes' summed CPU per request: bridge + backend = %s in direct mode, bridge + job's end + "+
		"backend = %s in tunnel mode, a ratio of %.2f (the load generator's own share, the same for both, left out); measured: "+
		"%.2f× at 32 connections and %.2f× at 1. On a cluster the job's end runs on the compute node and the login node pays the "+
		"bridge's share alone, whose CPU per request would allow %.2f× of direct mode's rate.\n\n",
		report.Format(cpu(pTunnel), "us"), report.Format(cpu(pBridge), "us"), report.Format(job, "us"), report.Format(cpu(pDirect), "us"),
		runtime.NumCPU(), report.Format(direct, "us"), report.Format(tunnel, "us"), safeDiv(direct, tunnel),
		ratio(32), ratio(1), safeDiv(cpu(pBridge), cpu(pTunnel)))
	if ratio(32) < safeDiv(direct, tunnel)-0.1 {
		b.WriteString("At 32 connections the measured ratio is below that: every stream of the task shares the tunnel's one " +
			"connection and each end's one send goroutine, which writes the frames one after the other: its queue, and not " +
			"the CPUs alone, is likely to set the pace there.\n\n")
	}
	fmt.Fprintf(&b, "Added latency over direct mode, interleaved rows: %s (p50) at 1 connection, %s at %d connections; the hops above, "+
		"each a wake-up of a goroutine or a process, on a machine whose other processes are busy with the same load.\n\n",
		added("http.paired.1k.c1.p50"), added(fmt.Sprintf("http.paired.1k.c%d.p50", latConns)), latConns)
	fmt.Fprintf(&b, "In the tunnel bridge's profile (%s): %s of CPU in read/write system calls, %s under yamux's receive loop, "+
		"%s under its send loop, %s under httputil.ReverseProxy.ServeHTTP (0%% = not among the profile's top functions). "+
		"yamux %s's send loop copies each frame's body and writes the frame with two system calls, its 12-byte header and "+
		"then the body. Proposed, to try next: a send loop that writes header and body together (one writev, or a buffered "+
		"writer flushed when its queue is empty), which would about halve the tunnel's write system calls for small messages.",
		prof, e.share(prof, "linux.Syscall6"), e.shareOf(prof, "yamux.(*Session).recvLoop"),
		e.shareOf(prof, "yamux.(*Session).send"), e.share(prof, "ReverseProxy).ServeHTTP"), moduleVersion("github.com/hashicorp/yamux"))
	return b.String()
}

// moduleVersion is the version of a module built into this program, or
// "?".
func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == path {
				return m.Version
			}
		}
	}
	return "?"
}

// explainTunnelLarge says why 1 MiB responses through the tunnel are far
// slower than in direct mode, when they are: from the tunnel bridge's
// profile of them.
func (e *env) explainTunnelLarge(f func(string) float64) string {
	const prof = "tunnel-1m-c32"
	r := func(c int) float64 {
		return safeDiv(f(fmt.Sprintf("http.static.1m.c%d.rps.%s", c, pTunnel)), f(fmt.Sprintf("http.static.1m.c%d.rps.%s", c, pBridge)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### Tunnel mode: 1 MiB responses\n\nThrough the tunnel 1 MiB responses run at %.2f× of direct mode's rate at 1 "+
		"connection and %.2f× at 32 (section 1c). Every connection of a task shares the tunnel's one TCP connection and each end's "+
		"one send goroutine, and every data frame is copied into its stream's receive buffer before it is read. In the tunnel "+
		"bridge's profile (%s): %s under yamux's receive loop, %s growing byte buffers (bytes.(*Buffer).grow), %s in the garbage "+
		"collector's mark workers, %s in read/write system calls.", r(1), r(32), prof, e.shareOf(prof, "yamux.(*Session).recvLoop"),
		e.shareOf(prof, "bytes.(*Buffer).grow"), e.shareOf(prof, "runtime.gcBgMarkWorker"), e.share(prof, "linux.Syscall6"))
	if pct(e.shareOf(prof, "bytes.(*Buffer).grow")) >= 5 {
		b.WriteString(" The growing is the receive buffers': the bridge's streams give theirs back whenever a read empties it " +
			"(tunnel.stream, so that an idle websocket holds none); yamux then allocates a new one for the next frame, of the " +
			"frame's size, and bytes.Buffer.ReadFrom grows it to twice that before it sees the frame's end: two allocations per " +
			"frame, which the collector then clears. Proposed: give the buffer back only when a read finds the stream idle " +
			"(no frame waiting), or only when it is larger than a few KiB, so that a busy stream keeps one.")
	}
	return b.String()
}

// explainIdleMemory says, from the bridges' runtime figures and heap
// profiles, why the memory per idle websocket or per idle tunnel missed
// its target.
func (e *env) explainIdleMemory(f func(string) float64, missed map[string]bool) string {
	var b strings.Builder
	n := e.plan.idleMany
	if missed["idle_ws_mem_direct"] || missed["idle_ws_mem_tunnel"] {
		fmt.Fprintf(&b, "### Not met: memory per idle websocket\n\n")
		fmt.Fprintf(&b, "With %d idle websockets the bridge holds %s per websocket in direct mode and %s in tunnel mode (RSS). "+
			"Its runtime says where (section 3b):", n, report.Format(f("mem.idle.many.perconn."+pBridge), "KiB"),
			report.Format(f("mem.idle.many.perconn."+pTunnel), "KiB"))
		for _, p := range []string{pBridge, pTunnel} {
			mode := map[string]string{pBridge: "direct", pTunnel: "tunnel"}[p]
			fmt.Fprintf(&b, " in %s mode %.1f goroutines per websocket with %s of stacks, and %s of heap (largest holders in the heap "+
				"profile %s: %s);", mode, f("mem.idle.many.goroutines."+p), report.Format(f("mem.idle.many.stack."+p), "KiB"),
				report.Format(f("mem.idle.many.heap."+p), "KiB"), fmt.Sprintf("%s-idle-ws-%d", p, n), e.topHolders(fmt.Sprintf("%s-idle-ws-%d", p, n), 3))
		}
		b.WriteString(" the rest is the runtime's own (span and GC metadata, pages partly used).")
		if f("mem.idle.many.goroutines."+pBridge) >= 3.5 {
			b.WriteString(" The goroutines are those httputil.ReverseProxy runs for an upgraded connection: the request's own, " +
				"which waits for the copying to end, one copying each way, and one that watches the request's context. Four " +
				"goroutines and two connections (in tunnel mode a connection and a stream) do not fit 16 KiB with their stacks " +
				"and buffers; the target needs the proxy to take over upgraded connections itself, with one goroutine each way " +
				"and none waiting.")
		}
		b.WriteString("\n\n")
	}
	if missed["tunnel_idle_mem"] {
		name := fmt.Sprintf("tunnel-idle-tunnels-%d", e.plan.tunnels)
		fmt.Fprintf(&b, "### Not met: memory per idle tunnel\n\nWith %d idle tunnels the bridge holds %s per tunnel (RSS): %.1f goroutines "+
			"(yamux's receive loop, send loop and keepalive, and the registry's watcher) with %s of stacks, and %s of heap (largest "+
			"holders in the heap profile %s: %s).\n\n", e.plan.tunnels, report.Format(f("mem.tunnels.per."+pTunnel), "KiB"),
			f("mem.tunnels.goroutines."+pTunnel), report.Format(f("mem.tunnels.stack."+pTunnel), "KiB"),
			report.Format(f("mem.tunnels.heap."+pTunnel), "KiB"), name, e.topHolders(name, 3))
	}
	return b.String()
}

// shareOf is share for a function named exactly fn (its package path
// may differ): a name that merely contains fn, such as sendNoWait for
// send, does not count.
func (e *env) shareOf(name, fn string) string {
	lines, ok := e.profiles[name]
	if !ok {
		return "?"
	}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) >= 6 && (f[5] == fn || strings.HasSuffix(f[5], "/"+fn)) {
			return f[4]
		}
	}
	return "0%"
}

// topHolders names the k functions that hold the most of a heap profile
// (flat), with their shares, e.g. "bufio.NewWriterSize 57%, …"; "?"
// without the profile.
func (e *env) topHolders(name string, k int) string {
	lines, ok := e.profiles[name]
	if !ok {
		return "?"
	}
	var out []string
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 6 || !strings.HasSuffix(f[1], "%") || pct(f[1]) == 0 {
			continue
		}
		out = append(out, fmt.Sprintf("%s %s", f[5], f[1]))
		if len(out) == k {
			break
		}
	}
	if len(out) == 0 {
		return "none sampled"
	}
	return strings.Join(out, ", ")
}
