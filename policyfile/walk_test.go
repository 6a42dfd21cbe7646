package policyfile

import (
	"strings"
	"testing"

	"github.com/budgetgate/budgetgate"
	"gopkg.in/yaml.v3"
)

// value parses src (a mapping with one key, v) and returns v's node.
func value(t *testing.T, src string) *yaml.Node {
	t.Helper()
	root, err := Document("p.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Document: %v", err)
	}
	return root.Content[1]
}

func TestReaderRefusals(t *testing.T) {
	r := Reader{File: "p.yaml"}
	known := []string{"a", "b"}
	tests := []struct {
		name, src string
		read      func(n *yaml.Node) error
		field     string
		msg       string
	}{
		{"alias value", "v: &x {a: 1}\nw: *x\n", nil, "p.yaml:2:4", "YAML aliases are not supported in a policy"},
		{"merge key", "v:\n  <<: {a: 1}\n", func(n *yaml.Node) error { _, err := r.Mapping(n, "v", nil); return err },
			"p.yaml:2:3", "YAML merge keys are not supported in a policy"},
		{"unknown key", "v: {c: 1}\n", func(n *yaml.Node) error { _, err := r.Mapping(n, "v", known); return err },
			"p.yaml:1:5", `unknown key "c" in v (known keys: a, b)`},
		{"key twice", "v: {a: 1, a: 2}\n", func(n *yaml.Node) error { _, err := r.Mapping(n, "v", known); return err },
			"p.yaml:1:11", `key "a" given twice in v`},
		{"not a mapping", "v: [1]\n", func(n *yaml.Node) error { _, err := r.Mapping(n, "v", nil); return err },
			"p.yaml:1:4", "v must be a mapping, not a list"},
		{"string is not a number", "v: 12\n", func(n *yaml.Node) error { _, err := r.String(n, "v"); return err },
			"p.yaml:1:4", "v must be a string, not an integer"},
		{"text too long", "v: " + strings.Repeat("x", MaxText+1) + "\n", func(n *yaml.Node) error { _, err := r.Text(n, "v"); return err },
			"p.yaml:1:4", "v: at most 4000 characters"},
		{"too many texts", "v: [" + strings.Repeat("x, ", MaxList) + "x]\n", func(n *yaml.Node) error { _, err := r.Texts(n, "v"); return err },
			"p.yaml:1:4", "v: at most 1000 items"},
		{"list item not a string", "v: [a, [b]]\n", func(n *yaml.Node) error { _, _, err := r.Strings(n, "v"); return err },
			"p.yaml:1:8", "v[1] must be a string, not a list"},
		{"one of", "v: [low, lowest]\n", func(n *yaml.Node) error { _, err := r.OneOf(n, "v", []string{"low", "high"}); return err },
			"p.yaml:1:10", `v: unknown value "lowest" (want one of: low, high)`},
		{"NaN", "v: .nan\n", func(n *yaml.Node) error { _, _, err := r.Number(n, "v"); return err },
			"p.yaml:1:4", "v must be a number, not NaN"},
		{"bool", "v: yes please\n", func(n *yaml.Node) error { _, err := r.Bool(n, "v"); return err },
			"p.yaml:1:4", "v must be true or false, not a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := Document("p.yaml", []byte(tt.src))
			if err != nil {
				t.Fatalf("Document: %v", err)
			}
			if tt.read == nil {
				_, err = r.Mapping(root, "", nil)
			} else {
				err = tt.read(root.Content[1])
			}
			if budgetgate.ErrorCode(err) != budgetgate.EINVALID || budgetgate.ErrorField(err) != tt.field || budgetgate.ErrorMessage(err) != tt.msg {
				t.Errorf("got %s %q %q, want invalid %q %q", budgetgate.ErrorCode(err), budgetgate.ErrorField(err), budgetgate.ErrorMessage(err), tt.field, tt.msg)
			}
		})
	}
}

func TestReaderValues(t *testing.T) {
	r := Reader{File: "p.yaml"}
	es, err := r.Mapping(value(t, "v: {a: 1, b: , c: x}\n"), "v", nil)
	if err != nil || len(es) != 3 {
		t.Fatalf("Mapping: %d entries, %v; want 3 (nulls kept)", len(es), err)
	}
	if got := Present(es); len(got) != 2 || got[0].Key.Value != "a" || got[1].Key.Value != "c" {
		t.Errorf("Present kept %v, want a and c", got)
	}
	if s, err := r.Text(value(t, "v: 2024\n"), "v"); s != "2024" || err != nil {
		t.Errorf("Text(2024) = %q, %v; free text takes any scalar as written", s, err)
	}
	if ss, nodes, err := r.Strings(value(t, "v: one\n"), "v"); len(ss) != 1 || ss[0] != "one" || len(nodes) != 1 || err != nil {
		t.Errorf("Strings(one) = %v, %v; a single string is a list of one", ss, err)
	}
	for src, want := range map[string]struct {
		v     float64
		isInt bool
	}{"v: 12\n": {12, true}, "v: 99.9\n": {99.9, false}, "v: 1_000\n": {1000, true}} {
		v, isInt, err := r.Number(value(t, src), "v")
		if v != want.v || isInt != want.isInt || err != nil {
			t.Errorf("Number(%q) = %v, %v, %v; want %v, %v", src, v, isInt, err, want.v, want.isInt)
		}
	}
	if v, _, err := r.Number(value(t, "v: .inf\n"), "v"); err != nil || v < 1e308 {
		t.Errorf("Number(.inf) = %v, %v; infinity is a bound that is no bound", v, err)
	}
	if b, err := r.Bool(value(t, "v: false\n"), "v"); b || err != nil {
		t.Errorf("Bool(false) = %v, %v", b, err)
	}
}
