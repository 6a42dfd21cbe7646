package ifdef

// Removed calls mark with each range of physical lines [from, to] (0-based)
// that undefining the macros undef names removes, every other macro being
// undecided, as `unifdef -U` of those macros would:
//
//   - a branch whose condition is false goes, with its directive line;
//   - a true branch stays without its directive line (kept, as #else, when
//     an undecided branch came before it), and every branch after it goes;
//   - an undecided branch stays, directive and all;
//   - #endif goes when no undecided branch stayed;
//   - a condition that reads none of the undefined macros is undecided,
//     even #if 0, and so is one outside the grammar unifdef evaluates.
func (f *File) Removed(undef func(name string) bool, mark func(from, to int)) {
	var stack []group
	removing := 0 // groups on the stack whose current body goes
	next := 0     // first line not yet decided
	body := func(upTo int) {
		if removing > 0 && upTo > next {
			mark(next, upTo-1)
		}
	}
	for _, d := range f.dirs {
		body(d.line)
		next = d.end + 1
		dirGone := removing > 0
		switch d.kind {
		case kIf:
			g := group{gone: removing > 0}
			if !g.gone {
				v, known := f.decide(d, undef)
				switch {
				case !known:
					g.keep, g.undecide = true, true
				case v:
					g.keep, g.taken = true, true
					dirGone = true
				default:
					dirGone = true
				}
			}
			stack = append(stack, g)
			if !g.keep {
				removing++
			}
		case kElif, kElse:
			g := &stack[len(stack)-1]
			wasKept := g.keep
			dirGone = g.gone || f.branch(g, d, undef)
			if wasKept && !g.keep {
				removing++
			} else if !wasKept && g.keep {
				removing--
			}
		case kEndif:
			g := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if !g.keep {
				removing--
			}
			// unifdef ends the group early at the branch after a true one
			// that followed an undecided one; then the #endif goes.
			dirGone = g.gone || !g.undecide || g.endedEarly
		}
		if dirGone {
			mark(d.line, d.end)
		}
	}
	body(f.Lines)
}

// group is the state of one #if ... #endif while Removed walks it.
type group struct {
	gone       bool // the whole group is inside removed code
	keep       bool // the current branch's body stays
	taken      bool // a true branch was taken: the rest goes
	undecide   bool // an undecided branch stayed
	endedEarly bool // a branch directive after the taken one stayed as #endif
}

// branch moves group g (not gone) to the #elif or #else d, and reports
// whether d's line goes.
func (f *File) branch(g *group, d directive, undef func(string) bool) (dirGone bool) {
	if g.taken {
		wasKept := g.keep
		g.keep = false
		// The first branch after a true one that followed an undecided
		// one is where unifdef writes its #endif.
		if wasKept && g.undecide && !g.endedEarly {
			g.endedEarly = true
			return false
		}
		return true
	}
	v, known := true, true
	if d.kind == kElif {
		v, known = f.decide(d, undef)
	}
	switch {
	case !known:
		g.keep, g.undecide = true, true
		return false
	case v:
		g.keep, g.taken = true, true
		return !g.undecide // it stays, as #else, after an undecided branch
	}
	g.keep = false
	return true
}

// decide evaluates a directive's condition: its value, and whether it is
// decided at all.
func (f *File) decide(d directive, undef func(string) bool) (value, known bool) {
	if d.cond == nil {
		return false, false
	}
	v := d.cond.eval(undef)
	if !v.known {
		return false, false
	}
	return v.n != 0, true
}
