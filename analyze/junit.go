package analyze

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/variant"
)

// JUnitCase is one <testcase> of a JUnit XML report.
type JUnitCase struct {
	Name      string
	Classname string
	File      string // the case's file attribute, else its suite's
	Time      float64
}

// maxJUnitCases bounds what one report may hold.
const maxJUnitCases = 1_000_000

// ParseJUnit reads a JUnit XML report: <testsuites> or <testsuite> at the
// top, suites nested to any depth, <testcase> with name, classname, file
// (or filepath) and time in seconds.
func ParseJUnit(r io.Reader) ([]JUnitCase, error) {
	dec := xml.NewDecoder(r)
	var cases []JUnitCase
	var suiteFiles []string // innermost last
	sawRoot := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, budgetgate.Errorf(budgetgate.EINVALID, "JUnit report: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "testsuites", "testsuite":
				sawRoot = true
				if t.Name.Local == "testsuite" {
					suiteFiles = append(suiteFiles, fileAttr(t.Attr))
				}
			case "testcase":
				if !sawRoot {
					return nil, budgetgate.Errorf(budgetgate.EINVALID, "JUnit report: <testcase> outside <testsuite>")
				}
				c := JUnitCase{File: fileAttr(t.Attr)}
				for _, a := range t.Attr {
					switch a.Name.Local {
					case "name":
						c.Name = a.Value
					case "classname":
						c.Classname = a.Value
					case "time":
						s := strings.ReplaceAll(strings.TrimSpace(a.Value), ",", "")
						if s == "" {
							continue
						}
						f, err := strconv.ParseFloat(s, 64)
						if err != nil || f < 0 || budgetgate.CheckNumber("time", f) != nil {
							return nil, budgetgate.Errorf(budgetgate.EINVALID, "JUnit report: test case %q has time %q, not a number of seconds", c.Name, a.Value)
						}
						c.Time = f
					}
				}
				if c.File == "" {
					for i := len(suiteFiles) - 1; i >= 0 && c.File == ""; i-- {
						c.File = suiteFiles[i]
					}
				}
				if len(cases) == maxJUnitCases {
					return nil, budgetgate.Errorf(budgetgate.ETOOLARGE, "JUnit report: more than %d test cases", maxJUnitCases)
				}
				cases = append(cases, c)
				if err := dec.Skip(); err != nil {
					return nil, budgetgate.Errorf(budgetgate.EINVALID, "JUnit report: %v", err)
				}
			}
		case xml.EndElement:
			if t.Name.Local == "testsuite" && len(suiteFiles) > 0 {
				suiteFiles = suiteFiles[:len(suiteFiles)-1]
			}
		}
	}
	if !sawRoot {
		return nil, budgetgate.Errorf(budgetgate.EINVALID, "JUnit report: no <testsuites> or <testsuite> element")
	}
	return cases, nil
}

func fileAttr(attrs []xml.Attr) string {
	for _, a := range attrs {
		if a.Name.Local == "file" || a.Name.Local == "filepath" {
			return a.Value
		}
	}
	return ""
}

// junitIndex places test cases on test files.
type junitIndex struct {
	files    map[string]bool
	bySuffix map[string][]string // path suffixes (at segment boundaries), with and without extension
	byDir    map[string][]string // directory suffixes -> its test files, sorted
}

func newJUnitIndex(testFiles []string) *junitIndex {
	x := &junitIndex{files: map[string]bool{}, bySuffix: map[string][]string{}, byDir: map[string][]string{}}
	for _, p := range testFiles { // sorted by the caller
		x.files[p] = true
		stem := strings.TrimSuffix(p, path.Ext(p))
		for _, s := range []string{p, stem} {
			for suffix := s; ; {
				x.bySuffix[suffix] = append(x.bySuffix[suffix], p)
				i := strings.IndexByte(suffix, '/')
				if i < 0 {
					break
				}
				suffix = suffix[i+1:]
			}
		}
		for dir := path.Dir(p); dir != "."; {
			x.byDir[dir] = append(x.byDir[dir], p)
			i := strings.IndexByte(dir, '/')
			if i < 0 {
				break
			}
			dir = dir[i+1:]
		}
	}
	return x
}

// place returns the test file a case belongs to, or "".
func (x *junitIndex) place(c JUnitCase) string {
	if c.File != "" {
		f := strings.TrimPrefix(path.Clean(strings.ReplaceAll(c.File, `\`, "/")), "./")
		// Absolute paths from CI: the longest suffix that is a known file.
		for s := strings.TrimPrefix(f, "/"); ; {
			if x.files[s] {
				return s
			}
			i := strings.IndexByte(s, '/')
			if i < 0 {
				break
			}
			s = s[i+1:]
		}
	}
	cn := c.Classname
	switch {
	case cn == "":
		return ""
	case strings.Contains(cn, "/"):
		// Go reports the package import path: the package's directory.
		for s := cn; ; {
			if fs := x.byDir[s]; len(fs) > 0 {
				return fs[0]
			}
			i := strings.IndexByte(s, '/')
			if i < 0 {
				return ""
			}
			s = s[i+1:]
		}
	}
	// Dotted names (Java, Python): the longest prefix that names a file.
	parts := strings.Split(cn, ".")
	for k := len(parts); k >= 1; k-- {
		if fs := x.bySuffix[strings.Join(parts[:k], "/")]; len(fs) > 0 {
			return fs[0]
		}
	}
	return ""
}

// applyJUnit reads the reports and puts each case's time, and the number
// of cases, on its test file. A file with cases in a report takes its test
// case count from the report rather than from the scanner.
func (an *analyzer) applyJUnit(in *variant.AnalysisInput) error {
	var tests []string
	at := map[string]int{}
	for i, f := range in.Files {
		if f.Test {
			tests = append(tests, f.Path)
			at[f.Path] = i
		}
	}
	x := newJUnitIndex(tests)
	counts := map[string]int{}
	unplaced := 0
	total := 0.0
	for _, name := range an.opts.JUnit {
		file, err := os.Open(name)
		if err != nil {
			return budgetgate.Errorf(budgetgate.EINVALID, "--junit: %v", err)
		}
		cases, err := ParseJUnit(file)
		file.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for _, c := range cases {
			p := x.place(c)
			if p == "" {
				unplaced++
				continue
			}
			// Bounding the sum of every time bounds each file's sum and
			// any sum of files a metric takes.
			if total += c.Time; budgetgate.CheckNumber("time", total) != nil {
				return budgetgate.Errorf(budgetgate.EINVALID, "%s: the test cases take %g seconds together, more than %d, the most added up exactly", name, total, budgetgate.MaxExact)
			}
			in.Files[at[p]].TestTime += c.Time
			counts[p]++
		}
	}
	for p, n := range counts {
		in.Files[at[p]].TestCases = n
	}
	if unplaced > 0 {
		an.res.Warnings = append(an.res.Warnings, fmt.Sprintf("%d JUnit test cases name no test file of the tree and are not counted", unplaced))
	}
	return nil
}
