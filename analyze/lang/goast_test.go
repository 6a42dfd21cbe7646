package lang

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// astCounts is what go/ast says of a Go file: gocyclo's complexity summed
// over the file (1 per FuncDecl plus if, for, range, non-default case and comm
// clauses, && and ||), FuncDecls, TypeSpecs and the test cases go test runs.
func astCounts(t *testing.T, name string, src []byte) (Counts, bool) {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		return Counts{}, false
	}
	var c Counts
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			c.Complexity++
			c.Functions++
			if astIsTest(n) {
				c.TestCases++
			}
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt:
			c.Complexity++
		case *ast.CaseClause:
			if n.List != nil {
				c.Complexity++
			}
		case *ast.CommClause:
			if n.Comm != nil {
				c.Complexity++
			}
		case *ast.BinaryExpr:
			if n.Op == token.LAND || n.Op == token.LOR {
				c.Complexity++
			}
		case *ast.TypeSpec:
			c.Classes++
		}
		return true
	})
	return c, true
}

// astIsTest follows go test: TestXxx(*testing.T), FuzzXxx(*testing.F), and
// ExampleXxx() with a body, none with a receiver, type parameters or results.
func astIsTest(fn *ast.FuncDecl) bool {
	if fn.Recv != nil || fn.Type.TypeParams != nil && len(fn.Type.TypeParams.List) > 0 {
		return false
	}
	if fn.Type.Results != nil && len(fn.Type.Results.List) > 0 {
		return false
	}
	name := fn.Name.Name
	params := fn.Type.Params.List
	switch {
	case astIsTestName(name, "Test"):
		return astHasArg(params, "T")
	case astIsTestName(name, "Fuzz"):
		return astHasArg(params, "F")
	case astIsTestName(name, "Example"):
		return len(params) == 0 && fn.Body != nil
	}
	return false
}

func astIsTestName(name, prefix string) bool {
	if !strings.HasPrefix(name, prefix) {
		return false
	}
	if len(name) == len(prefix) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(name[len(prefix):])
	return !unicode.IsLower(r)
}

func astHasArg(params []*ast.Field, arg string) bool {
	if len(params) != 1 || len(params[0].Names) > 1 {
		return false
	}
	ptr, ok := params[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	if id, ok := ptr.X.(*ast.Ident); ok {
		return id.Name == arg
	}
	if sel, ok := ptr.X.(*ast.SelectorExpr); ok {
		return sel.Sel.Name == arg
	}
	return false
}

// TestGoMatchesAST holds the Go scanner's complexity, functions, classes and
// test cases to go/ast's on a sample of Go's own source tree: every fifth .go
// file that parses, test files and testdata included.
func TestGoMatchesAST(t *testing.T) {
	if testing.Short() {
		t.Skip("GOROOT comparison skipped in -short mode")
	}
	root := filepath.Join(goroot(t), "src")
	var paths []string
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && strings.HasSuffix(path, ".go") {
			paths = append(paths, path)
		}
		return nil
	})
	sort.Strings(paths)
	checked, mismatched := 0, 0
	for i := 0; i < len(paths); i += goASTStride {
		src, err := os.ReadFile(paths[i])
		if err != nil {
			t.Fatal(err)
		}
		want, ok := astCounts(t, paths[i], src)
		if !ok {
			continue
		}
		checked++
		got := Measure(langGo, src, strings.HasSuffix(paths[i], "_test.go"), WantAll)
		got.Code, got.Comment, got.Blank = 0, 0, 0
		if !strings.HasSuffix(paths[i], "_test.go") {
			want.TestCases = 0
		}
		if got != want {
			mismatched++
			rel, _ := filepath.Rel(root, paths[i])
			t.Errorf("%s: got %+v, go/ast %+v", rel, got, want)
		}
	}
	t.Logf("%d files compared, %d differ", checked, mismatched)
	if checked < 500 {
		t.Errorf("only %d files compared", checked)
	}
}

// goASTStride samples every fifth file; set to 1 to check them all.
var goASTStride = 5
