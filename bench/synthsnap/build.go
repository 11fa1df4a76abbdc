package main

import "fmt"

// buildHost draws the whole host for cfg: the base system, the repeated
// process groups up to -procs with the planted behaviours and late kernel
// workers spread among them, the kernel modules, and sockets fitted to
// -sockets. It also returns how many sockets it left out to fit.
func buildHost(cfg config) (*host, int, error) {
	b := newBuilder(cfg)
	b.buildUsers()
	copies := cfg.copies()
	b.buildBase()
	base := b.userProcs()

	type event struct {
		plant  *plant
		kernel int // index of a late kernel worker, when plant is nil
	}
	var events []event
	plantProcs := 0
	for range copies {
		for i := range plants {
			events = append(events, event{plant: &plants[i]})
			plantProcs += plants[i].procs
		}
	}
	if copies > 0 {
		plantProcs++ // the tracer of plantOnce
	}
	budget := cfg.procs - base - plantProcs
	if budget < 0 {
		return nil, 0, fmt.Errorf("-procs %d is too small: the base system needs %d processes and %d copies of the planted behaviours %d more; give -procs %d or more, or lower -planted",
			cfg.procs, base, copies, plantProcs, base+plantProcs)
	}
	late := 2 + cfg.cpus/2
	for i := range late {
		// Spread the kernel workers between the plants.
		at := (i + 1) * len(events) / (late + 1)
		events = append(events[:at], append([]event{{kernel: i}}, events[at:]...)...)
	}
	heads := float64(budget)/4 + float64(len(events)) + 1
	b.headStep = (float64(b.h.uptimeTicks)*0.9 - b.clock) / heads

	remaining, created, next, singleton := budget, 0, 0, 0
	for remaining > 0 || next < len(events) {
		for next < len(events) && (remaining == 0 || created >= (next+1)*budget/(len(events)+1)) {
			b.beginGroup()
			if e := events[next]; e.plant != nil {
				copy := next % max(copies, 1)
				if n := b.countUser(func() { e.plant.add(b, copy) }); n != e.plant.procs {
					return nil, 0, fmt.Errorf("internal error: a planted behaviour created %d processes, not %d", n, e.plant.procs)
				}
			} else {
				b.spawnKernelThread(b.lateKernelThreadName(e.kernel))
			}
			next++
		}
		if remaining == 0 {
			continue
		}
		b.beginGroup()
		add := b.pickGroup()
		if singleton < len(singletons) {
			add = singletons[singleton]
			singleton++
		}
		n := b.countUser(func() { add(b, remaining) })
		if n == 0 {
			continue // that kind of group is full, but sessions always have room
		}
		if n > remaining {
			return nil, 0, fmt.Errorf("internal error: a process group created %d processes with %d left", n, remaining)
		}
		remaining -= n
		created += n
	}
	if copies > 0 {
		b.plantOnce()
	}
	b.buildModules(copies > 0)
	b.scaleWeights()
	if n := b.userProcs(); n != cfg.procs {
		return nil, 0, fmt.Errorf("internal error: built %d processes, not %d", n, cfg.procs)
	}
	if err := checkIDs(b.h); err != nil {
		return nil, 0, err
	}
	dropped, err := b.fitSockets()
	if err != nil {
		return nil, 0, err
	}
	return b.h, dropped, nil
}

// userProcs counts the listed user-space processes.
func (b *builder) userProcs() int {
	n := 0
	for _, p := range b.h.procs {
		if !p.kernel && !p.hidden {
			n++
		}
	}
	return n
}

// countUser runs add and returns how many listed user-space processes it
// created.
func (b *builder) countUser(add func()) int {
	before := len(b.h.procs)
	add()
	n := 0
	for _, p := range b.h.procs[before:] {
		if !p.kernel && !p.hidden {
			n++
		}
	}
	return n
}

// pickGroup draws a repeated process group by weight.
func (b *builder) pickGroup() func(*builder, int) int {
	total := 0
	for _, g := range groups {
		total += g.weight
	}
	n := b.rng.IntN(total)
	for _, g := range groups {
		if n -= g.weight; n < 0 {
			return g.add
		}
	}
	return groups[0].add
}

// scaleWeights sets the factors that turn program weights into numbers of
// mappings and descriptors, so that their means over the processes that
// have an address space are -maps-per-proc and -fds-per-proc. Programs
// with a fixed minimum, such as the mappings every dynamically linked
// program needs, can lift the mean above the flag.
func (b *builder) scaleWeights() {
	var maps, fds float64
	n := 0
	for _, p := range b.h.procs {
		if p.kernel || p.zombie {
			continue
		}
		maps += p.prog.maps
		fds += p.prog.fds
		n++
	}
	b.h.mapsScale = float64(b.cfg.mapsPerProc) * float64(n) / maps
	b.h.fdsScale = float64(b.cfg.fdsPerProc) * float64(n) / fds
}

// checkIDs reports a pid or thread id used twice, which would make two
// processes share one /proc directory.
func checkIDs(h *host) error {
	seen := map[int]bool{}
	for _, p := range h.procs {
		for id := p.pid; id <= p.pid+len(p.threadNames); id++ {
			if seen[id] {
				return fmt.Errorf("internal error: id %d is used twice", id)
			}
			seen[id] = true
		}
	}
	return nil
}
