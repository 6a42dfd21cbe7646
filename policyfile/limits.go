package policyfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/budgetgate/budgetgate"
	"gopkg.in/yaml.v3"
)

// Limits on a policy document, checked on its bytes before any of it is
// built in memory: a YAML parser spends over a hundred bytes on each node,
// so a few megabytes of "[]," would cost hundreds of megabytes while parsed.
// A real policy is a few kilobytes; see docs/OPERATIONS.md.
const (
	// MaxPolicyBytes is the largest policy file, of either kind.
	MaxPolicyBytes = 1 << 20
	// maxYAMLNodes bounds the nodes of a document, counted generously from
	// its indicators, and again after parsing with every alias expanded.
	maxYAMLNodes = 100_000
	// maxYAMLAliases bounds the aliases ("*name") of a document.
	maxYAMLAliases = 100
	// maxYAMLDepth bounds the nesting of flow collections ("[", "{").
	maxYAMLDepth = 64
)

// checkYAMLBounds refuses a document over the limits above, naming the line
// and column where the limit was passed. It does not tokenise YAML: it
// counts every indicator that may open a node, in quotes and comments as
// well, so its counts are upper bounds and hiding structure from it is not
// possible.
func checkYAMLBounds(file string, data []byte) error {
	if len(data) > MaxPolicyBytes {
		return budgetgate.FieldErrorf(file, "a policy file may hold at most %d bytes (1 MiB), this one holds %d", MaxPolicyBytes, len(data))
	}
	nodes, aliases, depth := 0, 0, 0
	line, col := 1, 0
	for i, c := range data {
		if c == '\n' {
			line, col = line+1, 0
			continue
		}
		if c&0xC0 != 0x80 { // columns count characters, not bytes
			col++
		}
		var prev, next byte = '\n', '\n'
		if i > 0 {
			prev = data[i-1]
		}
		if i+1 < len(data) {
			next = data[i+1]
		}
		switch c {
		case '[', '{':
			nodes += 2
			if depth++; depth > maxYAMLDepth {
				return budgetgate.FieldErrorf(fmt.Sprintf("%s:%d:%d", file, line, col), "YAML nested more than %d levels deep", maxYAMLDepth)
			}
		case ']', '}':
			depth = max(depth-1, 0)
		case ',':
			nodes++
		case ':':
			if isYAMLSpace(next) {
				nodes += 2
			}
		case '-', '?':
			if isYAMLSpace(prev) && isYAMLSpace(next) {
				nodes++
			}
		case '*':
			if isYAMLSpace(prev) || prev == '[' || prev == '{' || prev == ',' {
				if aliases++; aliases > maxYAMLAliases {
					return budgetgate.FieldErrorf(fmt.Sprintf("%s:%d:%d", file, line, col), "YAML has more than %d aliases", maxYAMLAliases)
				}
			}
		}
		if nodes > maxYAMLNodes {
			return budgetgate.FieldErrorf(fmt.Sprintf("%s:%d:%d", file, line, col), "YAML has more than %d nodes", maxYAMLNodes)
		}
	}
	return nil
}

func isYAMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// checkExpandedSize refuses a parsed document whose aliases, expanded, would
// make more than maxYAMLNodes nodes ("billion laughs"), for any walk of the
// tree that follows aliases. Sizes are memoised, so this is linear in the
// nodes actually built.
func checkExpandedSize(file string, root *yaml.Node) error {
	sizes := map[*yaml.Node]int{}
	var size func(n *yaml.Node) int
	size = func(n *yaml.Node) int {
		if s, ok := sizes[n]; ok {
			return s
		}
		sizes[n] = maxYAMLNodes + 1 // an alias cycle counts as too large
		s := 1
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			s += size(n.Alias)
		}
		for _, c := range n.Content {
			if s += size(c); s > maxYAMLNodes {
				break
			}
		}
		sizes[n] = min(s, maxYAMLNodes+1)
		return sizes[n]
	}
	if size(root) > maxYAMLNodes {
		return budgetgate.FieldErrorf(fmt.Sprintf("%s:%d:%d", file, root.Line, root.Column), "YAML with its aliases expanded has more than %d nodes", maxYAMLNodes)
	}
	return nil
}

// ReadPolicyFile reads a policy file named on a command line or found in a
// policy directory: a regular file, or a symbolic link to one, of at most
// MaxPolicyBytes.
func ReadPolicyFile(name string) ([]byte, error) {
	data, err := ReadRegularFile(name, true)
	var e *budgetgate.Error
	if err != nil && !errors.As(err, &e) {
		return nil, budgetgate.Errorf(budgetgate.EINVALID, "policy %s: %v", name, errors.Unwrap(err))
	}
	return data, err
}

// ReadRegularFile reads name, a regular file of at most MaxPolicyBytes: not
// a device, a FIFO or a directory, any of which may never end, nor, unless
// followLinks, a symbolic link (which could lead out of a tree). The error
// of a file that cannot be looked at is the system's, so that a caller can
// tell a missing file (errors.Is(err, fs.ErrNotExist)); the others are
// EINVALID *Error naming the file.
func ReadRegularFile(name string, followLinks bool) ([]byte, error) {
	// Stat before opening: opening a FIFO waits for a writer.
	stat := os.Lstat
	if followLinks {
		stat = os.Stat
	}
	fi, err := stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, NotRegularFile(name, fi.Mode())
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The file may have been swapped for another between Stat and Open.
	if opened, err := f.Stat(); err != nil || !os.SameFile(fi, opened) {
		return nil, budgetgate.Errorf(budgetgate.EINVALID, "%s changed while it was opened", name)
	}
	return ReadPolicyBytes(name, f)
}

// NotRegularFile refuses a file that is a symbolic link, a directory, a
// device...
func NotRegularFile(name string, mode fs.FileMode) error {
	if mode&fs.ModeSymlink != 0 {
		return budgetgate.Errorf(budgetgate.EINVALID, "%s is a symbolic link: only a regular file is read", name)
	}
	return budgetgate.Errorf(budgetgate.EINVALID, "%s is not a regular file: only a regular file is read", name)
}

// ReadPolicyBytes reads a policy from r, refusing it when it holds more than
// MaxPolicyBytes rather than reading on.
func ReadPolicyBytes(name string, r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxPolicyBytes+1))
	if err != nil {
		return nil, budgetgate.Errorf(budgetgate.EINVALID, "policy %s: %v", name, err)
	}
	if len(data) > MaxPolicyBytes {
		return nil, budgetgate.Errorf(budgetgate.EINVALID, "policy %s is larger than %d bytes (1 MiB)", name, MaxPolicyBytes)
	}
	return data, nil
}
