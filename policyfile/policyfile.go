// Package policyfile reads the YAML of every policy kind (error-budget and
// variant policies) so that both report problems the same way: one document
// per file, and every error naming file:line:column.
package policyfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/budgetgate/budgetgate"
	"gopkg.in/yaml.v3"
)

// At names the position of n as file:line:column.
func At(file string, n *yaml.Node) string {
	return fmt.Sprintf("%s:%d:%d", file, n.Line, n.Column)
}

// ErrorAt is an invalid-input error naming the position of n, or the file
// alone when n is nil.
func ErrorAt(file string, n *yaml.Node, format string, args ...any) error {
	if n == nil {
		return budgetgate.FieldErrorf(file, format, args...)
	}
	return budgetgate.FieldErrorf(At(file, n), format, args...)
}

var yamlLineRe = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)

// Document decodes the one YAML document of a policy file (of any kind) into
// its root node, refusing empty files and second documents. yaml.v3 reports
// syntax errors with a line but no column, so those name "file:line".
func Document(file string, data []byte) (*yaml.Node, error) {
	docs, err := decode(file, data, 1)
	if err != nil {
		return nil, err
	}
	return docs[0], nil
}

// Documents decodes every YAML document of a file that may hold several
// (separated by "---", as OpenSLO and Sloth files do) into their root nodes,
// under the same limits as Document, counted over the whole file. Empty
// documents are left out; a file with none is refused.
func Documents(file string, data []byte) ([]*yaml.Node, error) {
	return decode(file, data, 0)
}

// decode reads the documents of data, at most limit of them unless limit
// is 0.
func decode(file string, data []byte, limit int) (roots []*yaml.Node, err error) {
	defer func() {
		// yaml.v3 has panicked on hostile input before; a policy upload, or
		// a repository's policy read by the server, must never take it down.
		if r := recover(); r != nil {
			roots, err = nil, budgetgate.FieldErrorf(file+":1:1", "cannot parse YAML: %v", r)
		}
	}()
	if err := checkYAMLBounds(file, data); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, syntaxError(file, err)
		}
		if limit > 0 && len(roots) == limit {
			return nil, ErrorAt(file, &doc, "a policy file holds one YAML document, this is a second")
		}
		if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 && !IsNull(doc.Content[0]) {
			roots = append(roots, doc.Content[0])
		} else if limit > 0 {
			// A second document after an empty first is still a second.
			roots = append(roots, nil)
		}
	}
	if len(roots) == 0 || roots[0] == nil {
		return nil, budgetgate.FieldErrorf(file+":1:1", "empty policy file")
	}
	// Anchors do not reach across documents, but the limit is the file's.
	all := &yaml.Node{Kind: yaml.SequenceNode, Content: roots, Line: roots[0].Line, Column: roots[0].Column}
	if err := checkExpandedSize(file, all); err != nil {
		return nil, err
	}
	return roots, nil
}

// yamlCollectionProblems are the parser errors about an unfinished list or
// mapping. yaml.v3 counts their line from 0 (the line where the collection
// starts, or where the problem is when that is the first line), and gives
// no line at all for the first line: one is added to name it as people count.
var yamlCollectionProblems = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"did not find expected key", "did not find expected '-' indicator",
}

func syntaxError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if slices.Contains(yamlCollectionProblems, msg) {
		line++
	}
	if line == 0 {
		return budgetgate.FieldErrorf(file+":1:1", "invalid YAML: %s", msg)
	}
	return budgetgate.FieldErrorf(fmt.Sprintf("%s:%d", file, line), "invalid YAML: %s", msg)
}

// IsNull reports whether n is YAML null: a key given with no value.
func IsNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// Describe names the kind of n for messages: "a mapping", "a string".
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return "a string"
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "null"
		}
		return "a " + strings.TrimLeft(n.ShortTag(), "!") + " value"
	}
	return "an alias"
}
