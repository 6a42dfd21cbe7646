package analyze

import (
	"bufio"
	"bytes"
	"path"
	"sort"
	"strings"

	"github.com/budgetgate/budgetgate/variant"
)

// attributes holds the linguist-generated and linguist-vendored settings of
// a tree's .gitattributes files (the ones GitHub's linguist reads too).
type attributes struct {
	files []attrFile // shallowest first
}

type attrFile struct {
	base  string // directory, relative to the root
	rules []attrRule
}

type attrRule struct {
	glob      *variant.Glob
	generated int8 // +1 set, -1 unset, 0 not mentioned
	vendored  int8
}

// add parses one .gitattributes file found at dir.
func (a *attributes) add(dir string, data []byte) {
	f := attrFile{base: dir}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") || strings.HasPrefix(fields[0], "!") {
			continue
		}
		r := attrRule{}
		for _, attr := range fields[1:] {
			if v, ok := attrValue(attr, "linguist-generated"); ok {
				r.generated = v
			}
			if v, ok := attrValue(attr, "linguist-vendored"); ok {
				r.vendored = v
			}
		}
		if r.generated == 0 && r.vendored == 0 {
			continue
		}
		g, err := variant.CompileGlob(strings.Trim(fields[0], `"`))
		if err != nil || g.HasVariant() {
			continue
		}
		r.glob = g
		f.rules = append(f.rules, r)
	}
	if len(f.rules) > 0 {
		a.files = append(a.files, f)
		sort.SliceStable(a.files, func(i, j int) bool { return depth(a.files[i].base) < depth(a.files[j].base) })
	}
}

// attrValue reads "name", "name=true", "-name", "name=false", "!name".
func attrValue(attr, name string) (int8, bool) {
	switch attr {
	case name, name + "=true", name + "=1":
		return 1, true
	case "-" + name, name + "=false", name + "=0", "!" + name:
		return -1, true
	}
	return 0, false
}

// lookup returns whether p is marked generated or vendored: deeper files
// override shallower ones, and later lines earlier ones.
func (a *attributes) lookup(p string) (generated, vendored bool) {
	var gen, ven int8
	for _, f := range a.files {
		rel, ok := under(f.base, p)
		if !ok {
			continue
		}
		for _, r := range f.rules {
			if _, ok := r.glob.Match(rel); !ok {
				continue
			}
			if r.generated != 0 {
				gen = r.generated
			}
			if r.vendored != 0 {
				ven = r.vendored
			}
		}
	}
	return gen > 0, ven > 0
}

// attributeFiles returns the .gitattributes paths among entries.
func attributeFiles(entries []Entry) []string {
	var out []string
	for _, e := range entries {
		if path.Base(e.Path) == ".gitattributes" {
			out = append(out, e.Path)
		}
	}
	return out
}

func depth(dir string) int {
	if dir == "" {
		return 0
	}
	return 1 + strings.Count(dir, "/")
}
