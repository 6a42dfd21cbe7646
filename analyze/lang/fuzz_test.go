package lang

import "testing"

// The fuzz targets feed arbitrary bytes to every scanner of a family and
// check what must hold for any input: no panic, counts that are not
// negative, lines that add up to the lines of the input, and the same line
// counts whether or not the deeper counters are asked for.
//
//	go test -fuzz FuzzMeasureC ./analyze/lang/

// fuzzSeeds are inputs that reach the scanners' corners: unterminated
// strings and comments, nesting, continuations, heredocs.
var fuzzSeeds = []string{
	"",
	"\n",
	"x",
	"/*",
	"/* /* */",
	"\"unterminated\n'\n`\n",
	"a := `raw\n// x\n",
	"s := \"a\\\n/* b\"\n*/\n",
	"#define A \\\n\n// c\n",
	"R\"x(a\n)x\" r#\"b\"# @\"c\"\"d\" #\"e\"#",
	"`${`${a}`}` /re[/]/ x / y",
	"'''\n\"\"\"\n'''",
	"#!/bin/sh\ncase x in a|*) ;; esac\ncat <<-EOF\n\tEOF\n${#x} $'\\''",
	"=head1\n=cut\n__END__\n=begin\n=end\n",
	"<!-- a --> <!--\n-->",
	"\xEF\xBB\xBF\r\n\t \v\f",
	"func Test(t *T) { type ( A int ) }\nfunc ExampleX() {",
}

func fuzzLanguages(f *testing.F, langs []*Language) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, src []byte, isTest bool) {
		lines := CountLines(src)
		for _, l := range langs {
			all := Measure(l, src, isTest, WantAll)
			only := Measure(l, src, isTest, WantLines)
			if all.Code < 0 || all.Comment < 0 || all.Blank < 0 || all.Complexity < 0 ||
				all.Functions < 0 || all.Classes < 0 || all.TestCases < 0 {
				t.Fatalf("%s: negative count %+v", l, all)
			}
			if all.Lines() != lines {
				t.Fatalf("%s: %d lines counted (%+v), input has %d", l, all.Lines(), all, lines)
			}
			if only.Code != all.Code || only.Comment != all.Comment || only.Blank != all.Blank {
				t.Fatalf("%s: lines alone %+v, with the rest %+v", l, only, all)
			}
		}
	})
}

func FuzzMeasureGo(f *testing.F) { fuzzLanguages(f, []*Language{langGo}) }

func FuzzMeasureC(f *testing.F) {
	fuzzLanguages(f, []*Language{langC, langCpp, langCSharp, langJava, langKotlin, langScala,
		langSwift, langDart, langJS, langTS, langRust, langProto, langCSS})
}

func FuzzMeasurePython(f *testing.F) { fuzzLanguages(f, []*Language{langPython}) }

func FuzzMeasureShell(f *testing.F) { fuzzLanguages(f, []*Language{langShell}) }

func FuzzMeasureOther(f *testing.F) {
	fuzzLanguages(f, []*Language{langMake, langCMake, langPerl, langRuby, langAwk, langYAML,
		langAsm, langSQL, langHTML, langMarkdown, langBatch, langText, nil})
}
