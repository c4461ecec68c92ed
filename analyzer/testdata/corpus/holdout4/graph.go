package holdout4

import (
	"container/heap"
	"context"
	"fmt"
	"slices"
	"strings"
)

type arc struct {
	to string
	w  int
}

// adjacency keeps each node's arcs in input order so every traversal is reproducible.
func adjacency(edges []Edge) (map[string][]arc, error) {
	adj := map[string][]arc{}
	for i, e := range edges {
		if e.W < 0 {
			return nil, fmt.Errorf("edge %d: negative weight %d", i, e.W)
		}
		adj[e.From] = append(adj[e.From], arc{e.To, e.W})
	}
	return adj, nil
}

type item struct {
	node string
	dist int
}

// frontier is a min-heap of nodes by distance, then name.
type frontier []item

func (f frontier) Len() int { return len(f) }
func (f frontier) Less(i, j int) bool {
	if f[i].dist != f[j].dist {
		return f[i].dist < f[j].dist
	}
	return f[i].node < f[j].node
}
func (f frontier) Swap(i, j int) { f[i], f[j] = f[j], f[i] }
func (f *frontier) Push(x any)   { *f = append(*f, x.(item)) }
func (f *frontier) Pop() any {
	old := *f
	x := old[len(old)-1]
	*f = old[:len(old)-1]
	return x
}

// ShortestPath exercises Dijkstra over a container/heap with arcs kept in input order.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ShortestPath(ctx context.Context, in In) (Out, error) {
	adj, err := adjacency(in.Edges)
	if err != nil {
		return Out{}, err
	}
	dist := map[string]int{in.From: 0}
	prev := map[string]string{}
	f := &frontier{{in.From, 0}}
	for f.Len() > 0 {
		cur := heap.Pop(f).(item)
		if cur.dist > dist[cur.node] {
			continue
		}
		for _, a := range adj[cur.node] {
			d := cur.dist + a.w
			if old, ok := dist[a.to]; !ok || d < old {
				dist[a.to] = d
				prev[a.to] = cur.node
				heap.Push(f, item{a.to, d})
			}
		}
	}
	d, ok := dist[in.To]
	if !ok {
		return Out{}, fmt.Errorf("no path from %q to %q", in.From, in.To)
	}
	path := []string{in.To}
	for n := in.To; n != in.From; n = prev[n] {
		path = append(path, prev[n])
	}
	slices.Reverse(path)
	return Out{Text: strings.Join(path, "->"), Count: d}, nil
}

// ReachableSet exercises a BFS over neighbour sets (map[string]bool) whose visit order,
// from map iteration, is the output.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func ReachableSet(ctx context.Context, in In) (Out, error) {
	next := map[string]map[string]bool{}
	for _, e := range in.Edges {
		if next[e.From] == nil {
			next[e.From] = map[string]bool{}
		}
		next[e.From][e.To] = true
	}
	seen := map[string]bool{in.From: true}
	queue := []string{in.From}
	var order []string
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		order = append(order, n)
		for m := range next[n] {
			if !seen[m] {
				seen[m] = true
				queue = append(queue, m)
			}
		}
	}
	return Out{Lines: order}, nil
}

// TopoOrder exercises Kahn's algorithm with the ready set kept sorted (ties by name).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func TopoOrder(ctx context.Context, in In) (Out, error) {
	indeg := map[string]int{}
	adj := map[string][]string{}
	for _, e := range in.Edges {
		adj[e.From] = append(adj[e.From], e.To)
		indeg[e.To]++
		if _, ok := indeg[e.From]; !ok {
			indeg[e.From] = 0
		}
	}
	var ready []string
	for n, d := range indeg {
		if d == 0 {
			ready = append(ready, n)
		}
	}
	slices.Sort(ready)
	var order []string
	for len(ready) > 0 {
		n := ready[0]
		ready = ready[1:]
		order = append(order, n)
		for _, m := range adj[n] {
			indeg[m]--
			if indeg[m] == 0 {
				ready = append(ready, m)
				slices.Sort(ready)
			}
		}
	}
	if len(order) != len(indeg) {
		return Out{}, fmt.Errorf("graph has a cycle")
	}
	return Out{Lines: order}, nil
}
