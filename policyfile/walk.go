package policyfile

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// MaxText bounds any one string of a policy file, and MaxList any one list of
// free text: far above what a policy needs, and low enough that every stored
// version stays small.
const (
	MaxText = 4000
	MaxList = 1000
)

// Reader reads the nodes of one policy file, so that every policy kind
// refuses the same things with the same words, each error naming
// file:line:column.
type Reader struct {
	File string
}

// At names the position of n in the file.
func (r Reader) At(n *yaml.Node) string { return At(r.File, n) }

// Errorf is an invalid-input error at n.
func (r Reader) Errorf(n *yaml.Node, format string, args ...any) error {
	return ErrorAt(r.File, n, format, args...)
}

// Entry is one key and value of a mapping.
type Entry struct {
	Key, Value *yaml.Node
}

// NoAlias refuses YAML aliases: a policy has no use for them, and expanding
// them is how small files become huge ones.
func (r Reader) NoAlias(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode {
		return r.Errorf(n, "YAML aliases are not supported in a policy")
	}
	return nil
}

// Mapping returns the entries of the mapping n in document order, null
// values included (see Present). It refuses aliases, merge keys, keys that
// are not plain names, repeated keys and, when known is not nil, keys not in
// known; where names the mapping in messages ("" for the top level).
func (r Reader) Mapping(n *yaml.Node, where string, known []string) ([]Entry, error) {
	if err := r.NoAlias(n); err != nil {
		return nil, err
	}
	if n.Kind != yaml.MappingNode {
		return nil, r.Errorf(n, "%s must be a mapping, not %s", orTop(where), Describe(n))
	}
	seen := make(map[string]bool, len(n.Content)/2)
	out := make([]Entry, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if err := r.NoAlias(k); err != nil {
			return nil, err
		}
		if k.Kind != yaml.ScalarNode {
			return nil, r.Errorf(k, "keys in %s must be plain names, not %s", orTop(where), Describe(k))
		}
		if known != nil && !slices.Contains(known, k.Value) {
			return nil, r.UnknownKey(k, where, known)
		}
		if k.Value == "<<" {
			return nil, r.Errorf(k, "YAML merge keys are not supported in a policy")
		}
		if seen[k.Value] {
			return nil, r.Errorf(k, "key %q given twice in %s", k.Value, orTop(where))
		}
		seen[k.Value] = true
		if err := r.NoAlias(v); err != nil {
			return nil, err
		}
		out = append(out, Entry{k, v})
	}
	return out, nil
}

// UnknownKey is the error for the key k, not one of known, in where.
func (r Reader) UnknownKey(k *yaml.Node, where string, known []string) error {
	in := "in " + where
	if where == "" {
		in = "at top level"
	}
	return r.Errorf(k, "unknown key %q %s (known keys: %s)", k.Value, in, strings.Join(known, ", "))
}

func orTop(where string) string {
	if where == "" {
		return "the top level"
	}
	return where
}

// Present leaves out the entries whose value is null, for a policy kind
// where a key given without a value counts as absent.
func Present(es []Entry) []Entry {
	return slices.DeleteFunc(es, func(e Entry) bool { return IsNull(e.Value) })
}

// ByKey indexes entries by key.
func ByKey(es []Entry) map[string]Entry {
	m := make(map[string]Entry, len(es))
	for _, e := range es {
		m[e.Key.Value] = e
	}
	return m
}

// Text reads any non-null scalar as text, as written, so that free-text
// items such as "2024 freeze" need no quotes.
func (r Reader) Text(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode || IsNull(n) {
		return "", r.Errorf(n, "%s must be a string, not %s", what, Describe(n))
	}
	return r.bounded(n, what)
}

// String reads a YAML string: a scalar that YAML does not read as a number,
// a boolean or null.
func (r Reader) String(n *yaml.Node, what string) (string, error) {
	if err := r.isString(n, what); err != nil {
		return "", err
	}
	return r.bounded(n, what)
}

func (r Reader) isString(n *yaml.Node, what string) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return r.Errorf(n, "%s must be a string, not %s", what, Describe(n))
	}
	return nil
}

func (r Reader) bounded(n *yaml.Node, what string) (string, error) {
	if utf8.RuneCountInString(n.Value) > MaxText {
		return "", r.Errorf(n, "%s: at most %d characters", what, MaxText)
	}
	return n.Value, nil
}

// List returns the items of the list n, refusing aliases; what names the
// list in messages.
func (r Reader) List(n *yaml.Node, what string) ([]*yaml.Node, error) {
	if err := r.NoAlias(n); err != nil {
		return nil, err
	}
	if n.Kind != yaml.SequenceNode {
		return nil, r.Errorf(n, "%s must be a list of strings, not %s", what, Describe(n))
	}
	for _, item := range n.Content {
		if err := r.NoAlias(item); err != nil {
			return nil, err
		}
	}
	return n.Content, nil
}

// Texts reads a list of free-text items (see Text), at most MaxList of them:
// an error-budget policy keeps them in every stored version. A list of
// patterns (Strings) is bounded by the file's limits alone.
func (r Reader) Texts(n *yaml.Node, what string) ([]string, error) {
	items, err := r.List(n, what)
	if err != nil {
		return nil, err
	}
	if len(items) > MaxList {
		return nil, r.Errorf(n, "%s: at most %d items", what, MaxList)
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		s, err := r.Text(item, fmt.Sprintf("%s[%d]", what, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Strings reads a list of YAML strings, or one string as a list of one, with
// the node of each for messages about it. The caller bounds each item: a
// pattern has a limit of its own, lower than MaxText, and its message.
func (r Reader) Strings(n *yaml.Node, what string) ([]string, []*yaml.Node, error) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		return []string{n.Value}, []*yaml.Node{n}, nil
	}
	items, err := r.List(n, what)
	if err != nil {
		return nil, nil, err
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		if err := r.isString(item, fmt.Sprintf("%s[%d]", what, i)); err != nil {
			return nil, nil, err
		}
		out = append(out, item.Value)
	}
	return out, items, nil
}

// OneOf reads a list whose items must come from allowed, without repeats.
func (r Reader) OneOf(n *yaml.Node, what string, allowed []string) ([]string, error) {
	vals, err := r.Texts(n, what)
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		if !slices.Contains(allowed, v) {
			return nil, r.Errorf(n.Content[i], "%s: unknown value %q (want one of: %s)", what, v, strings.Join(allowed, ", "))
		}
		if slices.Contains(vals[:i], v) {
			return nil, r.Errorf(n.Content[i], "%s: %q listed twice", what, v)
		}
	}
	return vals, nil
}

// Number reads a number (infinity included, for a bound that is no bound),
// and whether it was written as an integer.
func (r Reader) Number(n *yaml.Node, what string) (value float64, isInt bool, err error) {
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") {
		return 0, false, r.Errorf(n, "%s must be a number, not %s", what, Describe(n))
	}
	if err := n.Decode(&value); err != nil {
		return 0, false, r.Errorf(n, "%s: cannot read %q as a number", what, n.Value)
	}
	if math.IsNaN(value) {
		return 0, false, r.Errorf(n, "%s must be a number, not NaN", what)
	}
	return value, tag == "!!int", nil
}

// Bool reads true or false.
func (r Reader) Bool(n *yaml.Node, what string) (bool, error) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		return false, r.Errorf(n, "%s must be true or false, not %s", what, Describe(n))
	}
	return b, nil
}
