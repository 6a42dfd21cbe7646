package analyze

import (
	"bytes"
	"cmp"
	"context"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/budgetgate/budgetgate/variant"
)

// dupWindow is how many normalised lines a fingerprint covers: shorter
// repeats are too common (closing braces, imports) to mean anything.
const dupWindow = 6

// dupMaxOccurrences drops fingerprints seen more often than this:
// boilerplate that every file has is not a refactoring target.
const dupMaxOccurrences = 64

// dupFile is one variant file, fingerprinted.
type dupFile struct {
	path     string
	variants []string
	lines    []int    // original line number (1-based) of each normalised line
	hashes   []uint64 // one per window of dupWindow normalised lines
	text     []string // the normalised lines
}

// normalise turns source into the lines that fingerprints are made of:
// trimmed, whitespace collapsed, lower case, without blank, punctuation-only
// or comment-only lines, and with the variant's own name replaced, so that
// brake_truck.go and brake_bus.go that differ only in the name still match.
func normalise(src []byte, variants []string) (text []string, lines []int) {
	var names []string
	for _, v := range variants {
		if len(v) >= 2 {
			names = append(names, strings.ToLower(v))
		}
	}
	n := 0
	for len(src) > 0 {
		var line []byte
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			line, src = src, nil
		}
		n++
		t := strings.Join(strings.Fields(string(line)), " ")
		if t == "" || strings.HasPrefix(t, "//") || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "/*") || strings.HasPrefix(t, "*") || strings.HasPrefix(t, "--") {
			continue
		}
		if !strings.ContainsFunc(t, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			continue
		}
		t = strings.ToLower(t)
		for _, v := range names {
			t = strings.ReplaceAll(t, v, "\x00")
		}
		text = append(text, t)
		lines = append(lines, n)
	}
	return text, lines
}

func fingerprint(path string, variants []string, src []byte) dupFile {
	f := dupFile{path: path, variants: variants}
	f.text, f.lines = normalise(src, variants)
	for i := 0; i+dupWindow <= len(f.text); i++ {
		h := fnv.New64a()
		for _, t := range f.text[i : i+dupWindow] {
			h.Write([]byte(t))
			h.Write([]byte{'\n'})
		}
		f.hashes = append(f.hashes, h.Sum64())
	}
	return f
}

// findDuplicates finds blocks of at least dupWindow normalised lines that
// occur in files of two or more different variants. Matching windows of a
// pair of files are chained along their diagonal into maximal blocks; the
// same block found between several pairs is reported once with all its
// places.
func findDuplicates(files []dupFile) []variant.Duplicate {
	type occ struct{ file, win int }
	byHash := map[uint64][]occ{}
	for fi, f := range files {
		for wi, h := range f.hashes {
			byHash[h] = append(byHash[h], occ{fi, wi})
		}
	}
	type pairKey struct{ a, b int }
	pairs := map[pairKey][][2]int{}
	for _, occs := range byHash {
		if len(occs) < 2 || len(occs) > dupMaxOccurrences {
			continue
		}
		for i := range occs {
			for j := i + 1; j < len(occs); j++ {
				a, b := occs[i], occs[j]
				if a.file == b.file || sharesVariant(files[a.file].variants, files[b.file].variants) {
					continue
				}
				if a.file > b.file {
					a, b = b, a
				}
				k := pairKey{a.file, b.file}
				pairs[k] = append(pairs[k], [2]int{a.win, b.win})
			}
		}
	}
	type block struct {
		lines int
		locs  []variant.CodeLocation
	}
	blocks := map[string]*block{} // by normalised text
	loc := func(f dupFile, from, to int) variant.CodeLocation {
		return variant.CodeLocation{Path: f.path, StartLine: f.lines[from], EndLine: f.lines[to]}
	}
	for k, ms := range pairs {
		slices.SortFunc(ms, func(x, y [2]int) int {
			return cmp.Or(cmp.Compare(x[0]-x[1], y[0]-y[1]), cmp.Compare(x[0], y[0]))
		})
		fa, fb := files[k.a], files[k.b]
		for i := 0; i < len(ms); {
			j := i
			for j+1 < len(ms) && ms[j+1][0] == ms[j][0]+1 && ms[j+1][1] == ms[j][1]+1 {
				j++
			}
			a0, b0 := ms[i][0], ms[i][1]
			n := ms[j][0] - a0 + dupWindow // normalised lines in the block
			key := strings.Join(fa.text[a0:a0+n], "\n")
			bl := blocks[key]
			if bl == nil {
				bl = &block{lines: n}
				blocks[key] = bl
			}
			for _, l := range []variant.CodeLocation{loc(fa, a0, a0+n-1), loc(fb, b0, b0+n-1)} {
				if !slices.Contains(bl.locs, l) {
					bl.locs = append(bl.locs, l)
				}
			}
			i = j + 1
		}
	}
	var out []variant.Duplicate
	for _, bl := range blocks {
		out = append(out, variant.Duplicate{Lines: bl.lines, Locations: bl.locs})
	}
	// Drop blocks inside a bigger block at the same places (a three-way
	// copy whose pairs matched over different lengths).
	slices.SortFunc(out, func(x, y variant.Duplicate) int { return cmp.Compare(y.Lines, x.Lines) })
	var kept []variant.Duplicate
	for _, d := range out {
		if !slices.ContainsFunc(kept, func(k variant.Duplicate) bool { return covers(k, d) }) {
			kept = append(kept, d)
		}
	}
	return kept
}

func sharesVariant(a, b []string) bool {
	for _, v := range a {
		if slices.Contains(b, v) {
			return true
		}
	}
	return false
}

// covers reports whether every place of d lies within a place of k.
func covers(k, d variant.Duplicate) bool {
	for _, l := range d.Locations {
		if !slices.ContainsFunc(k.Locations, func(m variant.CodeLocation) bool {
			return m.Path == l.Path && m.StartLine <= l.StartLine && l.EndLine <= m.EndLine
		}) {
			return false
		}
	}
	return true
}

// duplicates reads the variant-only code files of the given dimensions and
// finds the code they share across variants.
func (an *analyzer) duplicates(ctx context.Context, src Source, t *tree, dims []string) (map[string][]variant.Duplicate, error) {
	type want struct {
		dim      string
		variants []string
	}
	wants := map[int][]want{} // by index into t.entries
	var idx []int
	for _, name := range dims {
		d := an.policy.Dimension(name)
		if d == nil {
			continue
		}
		for i, f := range t.in.Files {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if f.Test || !f.Code || an.policy.Excluded(f.Path) {
				continue
			}
			if d.Budget != nil && slices.ContainsFunc(d.Budget.Exclusions, func(g *variant.Glob) bool { _, ok := g.Match(f.Path); return ok }) {
				continue
			}
			vs := d.Variants(f.Path, false)
			if len(vs) == 0 {
				continue
			}
			if _, ok := wants[i]; !ok {
				idx = append(idx, i)
			}
			wants[i] = append(wants[i], want{name, vs})
		}
	}
	if len(idx) == 0 {
		return nil, nil
	}
	entries := make([]Entry, len(idx))
	for k, i := range idx {
		entries[k] = t.entries[i]
	}
	var mu sync.Mutex
	byDim := map[string][]dupFile{}
	err := src.Read(ctx, entries, an.opts.Workers, func(k int, data []byte) error {
		for _, w := range wants[idx[k]] {
			f := fingerprint(entries[k].Path, w.variants, data)
			mu.Lock()
			byDim[w.dim] = append(byDim[w.dim], f)
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := map[string][]variant.Duplicate{}
	for dim, fs := range byDim {
		slices.SortFunc(fs, func(a, b dupFile) int { return strings.Compare(a.path, b.path) })
		out[dim] = findDuplicates(fs)
	}
	return out, nil
}
