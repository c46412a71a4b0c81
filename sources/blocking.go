package sources

import "sort"

// BlockNode is one backend in a who-blocks-whom tree.
type BlockNode struct {
	PID int32
	// Depth is 0 for a root blocker, 1 for those it blocks directly, ...
	Depth int
	// Root is true for a backend that blocks others while not itself waiting
	// on any of them: the one to look at first.
	Root bool
	// Waiters counts every backend blocked by this one, directly or not.
	Waiters int
}

// BlockingTree flattens the who-blocks-whom graph into display order: each
// root blocker followed by the backends waiting on it, depth-first. A backend
// blocked by several is listed under each blocker. Cycles (deadlocks about to
// be broken by the server) are cut at the first repeat. Backends that neither
// block nor wait are left out.
func BlockingTree(backends []Backend) []BlockNode {
	waiters := map[int32][]int32{} // blocker -> blocked
	waiting := map[int32]bool{}
	for i := range backends {
		b := &backends[i]
		for _, by := range b.BlockedBy {
			waiters[by] = append(waiters[by], b.PID)
			waiting[b.PID] = true
		}
	}
	if len(waiters) == 0 {
		return nil
	}
	var roots []int32
	for blocker := range waiters {
		if !waiting[blocker] {
			roots = append(roots, blocker)
		}
	}
	// A pure cycle has no root; start it from its lowest pid so it is shown.
	if len(roots) == 0 {
		for blocker := range waiters {
			roots = append(roots, blocker)
		}
		sort.Slice(roots, func(i, j int) bool { return roots[i] < roots[j] })
		roots = roots[:1]
	}
	for _, ws := range waiters {
		sort.Slice(ws, func(i, j int) bool { return ws[i] < ws[j] })
	}
	count := map[int32]int{}
	var total func(pid int32, seen map[int32]bool) int
	total = func(pid int32, seen map[int32]bool) int {
		n := 0
		for _, w := range waiters[pid] {
			if seen[w] {
				continue
			}
			seen[w] = true
			n += 1 + total(w, seen)
		}
		return n
	}
	for pid := range waiters {
		count[pid] = total(pid, map[int32]bool{pid: true})
	}
	// Biggest pile-up first: that is the root blocker to act on.
	sort.Slice(roots, func(i, j int) bool {
		if count[roots[i]] != count[roots[j]] {
			return count[roots[i]] > count[roots[j]]
		}
		return roots[i] < roots[j]
	})
	var out []BlockNode
	var walk func(pid int32, depth int, path map[int32]bool)
	walk = func(pid int32, depth int, path map[int32]bool) {
		out = append(out, BlockNode{PID: pid, Depth: depth, Root: depth == 0 && !waiting[pid], Waiters: count[pid]})
		path[pid] = true
		for _, w := range waiters[pid] {
			if !path[w] {
				walk(w, depth+1, path)
			}
		}
		delete(path, pid)
	}
	for _, r := range roots {
		walk(r, 0, map[int32]bool{})
	}
	return out
}
