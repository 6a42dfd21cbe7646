package lang

import (
	"strings"
	"testing"
)

// lines is a test helper: code, comment and blank line counts.
type lines struct{ code, comment, blank int }

// TestLines checks the line counts of each language's tricky cases, counted
// by hand. Sources are written with "|" for a tab-free left margin.
func TestLines(t *testing.T) {
	tests := []struct {
		name string
		lang string
		src  string
		want lines
	}{
		{"go raw string holds comment markers", "Go", "" +
			"x := `\n" + // code
			"// not a comment\n" + // code: in the raw string
			"/* nor this */\n" + // code
			"`\n", // code
			lines{4, 0, 0}},
		{"go block comments", "Go", "" +
			"/* a */ x := 1\n" + // code after the comment
			"/* b\n" + // comment
			"\n" + // blank, even inside a comment
			"   c */\n" + // comment
			"y := 2 // trailing\n" + // code
			"// only comment\n" + // comment
			"z := 3 /* open\n" + // code
			"*/ w := 4\n", // code after the comment closes
			lines{4, 3, 1}},
		{"go strings and runes with markers", "Go", "" +
			"s := \"/*\"\n" + // code: no comment opens
			"q := '\"'\n" + // code: a rune, not a string
			"t := \"a\\\"//b\"\n" + // code: escaped quote
			"// end */\n", // comment
			lines{3, 1, 0}},
		{"go last line without newline, trailing blank", "Go", "a := 1\n\n  \t\nb := 2", lines{2, 0, 2}},
		{"go byte order mark", "Go", "\xEF\xBB\xBF// comment\npackage p\n", lines{1, 1, 0}},
		{"go CRLF", "Go", "// c\r\n\r\nx := 1\r\n", lines{1, 1, 1}},
		{"c char literal and continued string", "C", "" +
			"char q = '\"'; /* c */\n" + // code
			"const char *s = \"one \\\n" + // code, the string goes on
			"two // in the string\";\n" + // code
			"// done\n", // comment
			lines{3, 1, 0}},
		{"c blank line after a continued line is code, as cloc counts it", "C", "" +
			"#define A \\\n" + // code
			"\n" + // code: continued
			"int x;\n", // code
			lines{3, 0, 0}},
		{"c comment line after a continued line is code, as cloc counts it", "C", "" +
			"#define A 1 \\\n" + // code
			"// c\n" + // code for cloc: pulled into the line before
			"// d\n", // comment
			lines{2, 1, 0}},
		{"cpp raw string", "C++", "" +
			"auto s = R\"x(one\n" + // code
			"// two )\" still in\n" + // code
			")x\";\n" + // code
			"// three\n", // comment
			lines{3, 1, 0}},
		{"cpp digit separators", "C++", "int n = 1'000'000; // c\n// d\n", lines{1, 1, 0}},
		{"java text block", "Java", "" +
			"String s = \"\"\"\n" + // code
			"  // not a comment\n" + // code
			"  \"\"\";\n" + // code
			"/* c */\n", // comment
			lines{3, 1, 0}},
		{"csharp verbatim string ending in a backslash", "C#", "" +
			"var p = @\"C:\\dir\\\";\n" + // code: the backslash escapes nothing
			"// c\n" + // comment
			"var q = @\"two\n" + // code
			"// lines\"\"x\";\n", // code: "" is a quote
			lines{3, 1, 0}},
		{"javascript template literal and regex", "JavaScript", "" +
			"const t = `a\n" + // code
			"// in the template ${x /* c */}\n" + // code
			"`;\n" + // code
			"const r = /\\/\\*/g; // regex with markers\n" + // code
			"const d = a / b / c;\n" + // code: divisions
			"// end\n", // comment
			lines{5, 1, 0}},
		{"javascript nested template", "JavaScript", "" +
			"const t = `${a ? `in ${b}` : '`'}\n" + // code
			"// still in the template\n" + // code
			"`;\n" + // code
			"// comment\n", // comment
			lines{3, 1, 0}},
		{"typescript string with a comment opener", "TypeScript", "" +
			"const s = \"/*\";\n" + // code
			"let x: number = 1;\n" + // code
			"/* c */\n", // comment
			lines{2, 1, 0}},
		{"rust nested comments", "Rust", "" +
			"/* outer /* inner */\n" + // comment
			"still comment */\n" + // comment
			"fn f() {}\n", // code
			lines{1, 2, 0}},
		{"rust raw strings, lifetimes and chars", "Rust", "" +
			"let r = r#\"a \"q\" /* x\n" + // code
			"*/ still raw\"#;\n" + // code
			"fn g<'a>(s: &'a str) -> char { '\"' }\n" + // code: lifetimes, then a char
			"// c\n", // comment
			lines{3, 1, 0}},
		{"rust strings span lines", "Rust", "let s = \"one\n// two\";\n// c\n", lines{2, 1, 0}},
		{"kotlin raw string", "Kotlin", "val s = \"\"\"\n// x\n\"\"\"\n/* a /* b */ c */\n", lines{3, 1, 0}},
		{"swift raw and multi-line strings", "Swift", "" +
			"let a = #\"raw \"/*\" \"#\n" + // code
			"let b = \"\"\"\n" + // code
			"// in\n" + // code
			"\"\"\"\n" + // code
			"/* a /* b */ c */\n", // comment
			lines{4, 1, 0}},
		{"css", "CSS", "a { color: red; } /* c */\n/* d\n e */\n// not a comment in CSS\n", lines{2, 2, 0}},
		{"python docstrings are comments, as cloc counts them", "Python", "" +
			"#!/usr/bin/env python3\n" + // code: the #! line
			"\"\"\"Module doc.\n" + // comment
			"\n" + // blank
			"More.\"\"\"\n" + // comment
			"x = \"\"\"\n" + // code
			"text\n" + // comment
			"\"\"\"\n" + // comment
			"y = '#'  # c\n" + // code
			"# comment\n" + // comment
			"z = f(\"\"\"a\"\"\")\n", // code
			lines{4, 5, 1}},
		{"python single-quoted strings with markers", "Python", "a = 'it''s'  # c\nb = \"\\\"#\"\nc = '''x'''  \n", lines{3, 0, 0}},
		{"python blank line after a continued line is code", "Python", "x = 1 + \\\n\n2\n", lines{3, 0, 0}},
		{"shell", "Shell", "" +
			"#!/bin/sh\n" + // code: the #! line
			"# comment\n" + // comment
			"echo $# ${#x} ${x#y}  # trailing\n" + // code
			"  # indented comment\n" + // comment
			"cat <<EOF\n" + // code
			"# heredoc line starting with #\n" + // comment, as cloc and scc count it
			"EOF\n", // code
			lines{4, 3, 0}},
		{"shell without #! line", "Shell", "# c\necho hi\n", lines{1, 1, 0}},
		{"makefile", "Makefile", "# c\nall:\n\t@echo \"#\" # trailing\n\n", lines{2, 1, 1}},
		{"cmake", "CMake", "# c\nproject(x) # t\n", lines{1, 1, 0}},
		{"dockerfile", "Dockerfile", "FROM alpine\n# c\nRUN echo hi\n", lines{2, 1, 0}},
		{"perl pod and __END__", "Perl", "" +
			"#!/usr/bin/perl\n" + // code
			"my $x = 1; # c\n" + // code
			"=head1 NAME\n" + // comment
			"\n" + // blank
			"x - a tool\n" + // comment
			"=cut\n" + // comment
			"print $x;\n" + // code
			"__END__\n" + // comment
			"data\n", // comment
			lines{3, 5, 1}},
		{"ruby =begin", "Ruby", "# c\n=begin\nx = 1\n=end\nputs 1\n", lines{1, 4, 0}},
		{"assembly follows cloc's markers", "Assembly", "" +
			"#include \"textflag.h\"\n" + // comment, as cloc counts it
			"// c\n" + // comment
			"TEXT ·f(SB),NOSPLIT,$0 // trailing\n" + // code
			"\tMOVQ $1, AX /* c */\n" + // code
			"; semicolon comment\n" + // comment
			"/* block\n" + // comment
			"  */\n" + // comment
			"\tRET\n", // code
			lines{3, 5, 0}},
		{"sql", "SQL", "-- c\nSELECT '--x' FROM t; -- t\n/* a\nb */\n", lines{1, 3, 0}},
		{"html", "HTML", "<p>a</p>\n<!-- c -->\n<!--\nd\n-->\n<b>x</b> <!-- t -->\n", lines{2, 4, 0}},
		{"markdown", "Markdown", "# Title\n\n<!-- note -->\ntext\n", lines{2, 1, 1}},
		{"batch", "DOS Batch", "@echo off\nREM c\n:: c\nrem\nremark x\n", lines{2, 3, 0}},
		{"yaml", "YAML", "a: 1 # t\n# c\n\nb: '#'\n", lines{2, 1, 1}},
		{"json", "JSON", "{\n  \"a\": \"// x\"\n}\n", lines{3, 0, 0}},
		{"text", "Text", "one\n\n# two\n", lines{2, 0, 1}},
		{"empty", "Go", "", lines{0, 0, 0}},
		{"only blanks", "C", "\n \n\t", lines{0, 0, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := ByName(tt.lang)
			if l == nil {
				t.Fatalf("no language %q", tt.lang)
			}
			for _, want := range []Want{WantLines, WantAll} {
				c := Measure(l, []byte(tt.src), false, want)
				got := lines{c.Code, c.Comment, c.Blank}
				if got != tt.want {
					t.Errorf("want %b: got %+v, want %+v", want, got, tt.want)
				}
				if n := CountLines([]byte(tt.src)); c.Lines() != n {
					t.Errorf("want %b: %d lines counted, the source has %d", want, c.Lines(), n)
				}
			}
		})
	}
}

// structure is a test helper: the counters besides lines.
type structure struct{ complexity, functions, classes, tests int }

// TestStructure checks complexity, functions, classes and test cases on small
// examples counted by hand; each comment gives the count's parts.
func TestStructure(t *testing.T) {
	tests := []struct {
		name   string
		lang   string
		isTest bool
		src    string
		want   structure
	}{
		{"go", "Go", false, `package p

type (
	A int
	B struct{ x int }
)

type C interface{ M() }

func (a A) M() {}

func F(x int) int {
	if x > 0 && x < 10 {
		return 1
	}
	for i := 0; i < x; i++ {
		switch {
		case i == 1:
		case i == 2 || i == 3:
		default:
		}
	}
	f := func() {
		if true {
		}
	}
	f()
	return 0
}
`,
			// 2 FuncDecls; if, &&, for, 2 cases, ||, if in the literal.
			structure{complexity: 9, functions: 2, classes: 3}},
		{"go semicolons and one-liners", "Go", false, `package p
var f = func() { if x { return } }
type T int; func g() { if a { } else if b { } }
var s = "func h() {}"
func (T) m() { select { case <-c: if d {} ; default: } }
`,
			// FuncDecls g, m; if in the literal, if and else if, case, if after :.
			structure{complexity: 7, functions: 2, classes: 1}},
		{"go type switch is not a type", "Go", false, `package p
func f(x any) { switch x.(type) { case int: } }
func g() { type L struct{}; type ( M int; N = M ) }
`,
			// FuncDecls f, g; one case. Local types L, M, N.
			structure{complexity: 3, functions: 2, classes: 3}},
		{"go test cases", "Go", true, `package p_test

import "testing"

func TestA(t *testing.T) {}
func TestB(*testing.T)   {}
func Testlower(t *testing.T) {}
func TestC(t *testing.T, x int) {}
func BenchmarkD(b *testing.B) {}
func FuzzE(f *testing.F) {}
func ExampleF() {}
func ExampleG() int { return 1 }
func (s S) TestH(t *testing.T) {}
func Test(t *testing.T) {}
func TestI[T any](t *testing.T) {}
func TestJ(t *T) {}
`,
			// 12 functions; tests A, B, E, F, Test, J.
			structure{complexity: 12, functions: 12, tests: 6}},
		{"c", "C", false, `struct point { int x, y; };
struct point *make(void);
typedef struct { int a; } pair;
enum color { RED, GREEN };
union u { int i; float f; };
#define MAX(a, b) ((a) > (b) ? (a) : (b))

static int max(int a, int b)
{
	return a > b ? a : b;
}

int sum(const int *v, int n) {
	int s = 0;
	for (int i = 0; i < n; i++) {
		if (v[i] > 0 && v[i] < 100)
			s += v[i];
		else if (v[i] == -1 || v[i] == -2)
			break;
	}
	while (n--) {}
	switch (n) { case 1: break; case 2: break; default: break; }
	return s;
}
`,
			// Functions max, sum; ?, for, if, &&, if, ||, while, 2 cases (the
			// macro is skipped). Classes point, pair's struct, color, u.
			structure{complexity: 11, functions: 2, classes: 4}},
		{"cpp", "C++", true, `namespace n {
class Shape {
 public:
  virtual double Area() const = 0;
  Shape() : id_(0) {}
  int Id() const { return id_ > 0 ? id_ : 0; }
 private:
  int id_;
};
}
template <class T> T Max(T a, T b) { return a < b ? b : a; }
TEST(Shape, Id) {
  try { } catch (...) { }
}
`,
			// Functions Shape(), Id, Max, TEST; ?, ?, catch. Class Shape.
			structure{complexity: 7, functions: 4, classes: 1, tests: 1}},
		{"java", "Java", true, `package p;

import org.junit.Test;

public class FooTest {
    interface Shape { double area(); }
    enum Kind { A, B }
    record Point(int x, int y) {}

    @Test
    public void addsNumbers() throws Exception {
        int x = 1;
        if (x > 0 && x < 2) {
            x++;
        }
        try {
            x = x > 1 ? 2 : 3;
        } catch (RuntimeException e) {
            x = 0;
        }
    }

    @org.junit.Test
    public void second() {
        for (int i = 0; i < 3; i++) {}
        Runnable r = new Runnable() { public void run() {} };
        Class<?> c = String.class;
    }

    private int helper(int a) { return a; }
}
`,
			// Functions addsNumbers, second, helper (run is inside a method);
			// if, &&, ?, catch, for. Classes FooTest, Shape, Kind, Point.
			structure{complexity: 8, functions: 3, classes: 4, tests: 2}},
		{"csharp", "C#", true, `namespace N {
  public record R(int X);
  public struct S { }
  public class C<T> where T : class {
    [Test]
    public void M(int? x) {
      var y = x ?? 0;
      foreach (var i in new[] { 1 }) { if (i > 0 || y > 0) { } }
      var z = y > 1 ? 1 : 2;
    }
    public int P => 1;
    public int Q() => 2;
  }
}
`,
			// Functions M, Q; foreach, if, ||, ?. Classes R, S, C.
			structure{complexity: 6, functions: 2, classes: 3, tests: 1}},
		{"python", "Python", true, `import os

class Base:
    pass

class Child(Base):
    def method(self, x):
        if x and not x.empty or x is None:
            return [i for i in x if i]
        elif x:
            pass
        while False:
            pass
        try:
            pass
        except ValueError:
            pass

def test_one():
    """if and for in a docstring do not count."""
    assert "if" != 'for'

def helper():
    return 1 if os else 2  # if in a comment
`,
			// Functions method, test_one, helper; if, and, or, for, if, elif,
			// while, except, if.
			structure{complexity: 12, functions: 3, classes: 2, tests: 1}},
		{"javascript", "JavaScript", true, `class Widget extends Base {
  constructor(el) {
    super(el);
    this.el = el;
  }
  render() {
    return this.el ? this.el.innerHTML : '';
  }
  static create(x) { return new Widget(x); }
}

function helper(a, b) {
  return a && b || a;
}

const add = (a, b) => a + b;
const inc = x => x + 1;
const later = async () => {
  for (const x of [1, 2]) {
    if (x?.y ?? false) {}
  }
};

describe('widget', () => {
  it('renders', () => {});
  test('creates', () => {});
});
`,
			// Functions constructor, render, create, helper, add, inc, later;
			// ?, &&, ||, for, if.
			structure{complexity: 12, functions: 7, classes: 1, tests: 2}},
		{"typescript", "TypeScript", false, `interface Item { id: number; name?: string }
type Id = string | number;
type Pair<T> = [T, T];
enum Color { Red }
class Store<T> implements Repo {
  private items: T[] = [];
  get(id: Id): T | undefined {
    return id ? this.items[0] : undefined;
  }
  find = (id: Id): T | undefined => this.items.find((x) => x === id);
}
export function make(): Store<Item> { return new Store(); }
`,
			// Functions get, find, make; one ?. Classes Item, Id, Pair, Store.
			structure{complexity: 4, functions: 3, classes: 4}},
		{"rust", "Rust", true, `struct Point { x: i32 }
enum Shape { Circle, Square }
trait Area { fn area(&self) -> f64; }
type Alias = Point;

impl Area for Point {
    fn area(&self) -> f64 {
        if self.x > 0 && self.x < 10 { 1.0 } else { 0.0 }
    }
}

fn classify(n: i32) -> &'static str {
    match n {
        0 => "zero",
        1 | 2 => "small",
        _ => "big",
    }
}

#[test]
fn it_works() {
    for i in 0..3 { while false {} }
    let f: fn(i32) -> i32 = |x| x;
}
`,
			// Functions area (twice), classify, it_works; if, &&, two match
			// arms (not _), for, while (not the for of impl ... for).
			structure{complexity: 10, functions: 4, classes: 4, tests: 1}},
		{"kotlin", "Kotlin", true, `data class P(val x: Int)
interface I { fun f(): Int }
enum class E { A }
class T {
    @Test fun works() {
        val y = null ?: 1
        if (y > 0 && true) { }
        when (y) { 1 -> {} else -> {} }
    }
}
`,
			// Functions f, works; ?:, if, &&. Classes P, I, E, T.
			structure{complexity: 5, functions: 2, classes: 4, tests: 1}},
		{"swift", "Swift", true, `protocol Shape { func area() -> Double }
struct Sq: Shape {
    func area() -> Double { return 1 }
}
final class Tests: XCTestCase {
    class func make() -> Int { return 1 }
    func testArea() {
        guard true else { return }
        let v: Int? = nil
        let w = v == nil ? 1 : 2
    }
}
`,
			// Functions area (twice), make, testArea; guard, ?. Classes Shape,
			// Sq, Tests.
			structure{complexity: 6, functions: 4, classes: 3, tests: 1}},
		{"shell", "Shell", false, `#!/bin/sh
f() {
  if [ -n "$1" ] && [ "$1" != "if" ]; then
    echo yes
  elif [ -z "$2" ]; then
    echo no
  fi
}
function g {
  while false; do :; done
  for x in a b; do echo $x; done
  case "$1" in
    a|b) echo ab ;;
    c) echo c ;;
    *) echo other ;;
  esac
  echo "if && for" || true
  cat <<EOF
if this && that
EOF
}
`,
			// Functions f, g; if, &&, elif, while, for, patterns a|b and c
			// (not *), ||. The heredoc is data.
			structure{complexity: 10, functions: 2}},
		{"perl", "Perl", false, "package Foo;\nsub bar { my $x = shift; return $x if $x && 1; }\n", structure{complexity: 3, functions: 1, classes: 1}},
		{"ruby", "Ruby", false, "class A\n  def b(x)\n    x > 0 ? 1 : 2 unless x.nil?\n  end\nend\n", structure{complexity: 3, functions: 1, classes: 1}},
		{"cmake", "CMake", false, "function(f)\n  IF(X)\n  endif()\nendfunction()\nforeach(x a b)\nendforeach()\n", structure{complexity: 3, functions: 1}},
		{"protocol buffers", "Protocol Buffers", false, "message A { string b = 1; }\nservice S { rpc Get(A) returns (A); }\n", structure{complexity: 1, functions: 1, classes: 2}},
		{"assembly", "Assembly", false, "TEXT ·f(SB),NOSPLIT,$0\n\tRET\n", structure{complexity: 1, functions: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := ByName(tt.lang)
			if l == nil {
				t.Fatalf("no language %q", tt.lang)
			}
			c := Measure(l, []byte(tt.src), tt.isTest, WantAll)
			got := structure{c.Complexity, c.Functions, c.Classes, c.TestCases}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			// Lines alone leave the other counters at zero.
			if c := Measure(l, []byte(tt.src), tt.isTest, WantLines); c.Complexity+c.Functions+c.Classes+c.TestCases != 0 {
				t.Errorf("lines alone counted %+v", c)
			}
			if !tt.isTest && strings.Contains(tt.src, "test") {
				if c := Measure(l, []byte(tt.src), true, WantAll); c.TestCases < got.tests {
					t.Errorf("as a test file: %d test cases", c.TestCases)
				}
			}
		})
	}
}

// TestWant checks that Measure fills only what it is asked for.
func TestWant(t *testing.T) {
	src := []byte("package p\n\ntype T int\n\nfunc TestX(t *testing.T) { if a && b {} }\n")
	tests := []struct {
		want Want
		c    Counts
	}{
		{WantLines, Counts{Code: 3, Blank: 2}},
		{WantComplexity, Counts{Code: 3, Blank: 2, Complexity: 3, Functions: 1}},
		{WantStructure, Counts{Code: 3, Blank: 2, Functions: 1, Classes: 1}},
		{WantTests, Counts{Code: 3, Blank: 2, TestCases: 1}},
		{WantAll, Counts{Code: 3, Blank: 2, Complexity: 3, Functions: 1, Classes: 1, TestCases: 1}},
	}
	for _, tt := range tests {
		if got := Measure(langGo, src, true, tt.want); got != tt.c {
			t.Errorf("want %04b: got %+v, want %+v", tt.want, got, tt.c)
		}
	}
	if got := Measure(langGo, src, false, WantAll); got.TestCases != 0 {
		t.Errorf("test cases counted outside a test file: %d", got.TestCases)
	}
	if got := Measure(nil, []byte("a\n\nb\n"), false, WantAll); got != (Counts{Code: 2, Blank: 1}) {
		t.Errorf("nil language: %+v", got)
	}
}

// TestMeasureDoesNotAllocate holds every scanner to no allocation, so that
// measuring a tree costs no garbage collection.
func TestMeasureDoesNotAllocate(t *testing.T) {
	src := []byte(strings.Join(fuzzSeeds, "\n") + "\nfunc TestX(t *testing.T) { if a && b { type ( A int ) } }\n" +
		"class A { void f() { if (x) {} } }\nfunction(f)\n  if(x)\nendif()\n")
	for _, l := range Languages() {
		allocs := testing.AllocsPerRun(20, func() { Measure(l, src, true, WantAll) })
		if allocs != 0 {
			t.Errorf("%s: %.0f allocations", l, allocs)
		}
	}
}
