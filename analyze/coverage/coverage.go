// Package coverage reads line coverage reports: LCOV, Cobertura XML,
// JaCoCo XML and Go cover profiles, told apart by their content.
package coverage

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// Report is line coverage by file: for each line a report marks as
// executable, whether it ran. Paths are as the report writes them.
type Report struct {
	Format string
	Files  map[string]map[int]bool // path -> line -> executed
	// Sources are the roots Cobertura gives file names under.
	Sources []string
}

// maxLines bounds the lines one report may mark, so that a hostile report
// cannot exhaust memory.
const maxLines = 50_000_000

func newReport(format string) *Report {
	return &Report{Format: format, Files: map[string]map[int]bool{}}
}

// mark records that line of file ran (or not); a line any record says ran,
// ran.
func (r *Report) mark(file string, line int, ran bool) {
	lines := r.Files[file]
	if lines == nil {
		lines = map[int]bool{}
		r.Files[file] = lines
	}
	lines[line] = lines[line] || ran
}

// Parse reads a report in any of the formats, detected by its content.
func Parse(data []byte) (*Report, error) {
	head := bytes.TrimSpace(data[:min(len(data), 4096)])
	switch {
	case bytes.HasPrefix(head, []byte("mode:")):
		return parseGo(data)
	case bytes.HasPrefix(head, []byte("<")):
		return parseXML(data)
	case lcovStart(head):
		return parseLCOV(data)
	}
	return nil, errors.New("not a coverage report: want LCOV, Cobertura XML, JaCoCo XML or a Go cover profile")
}

func lcovStart(head []byte) bool {
	for _, p := range []string{"TN:", "SF:"} {
		if bytes.HasPrefix(head, []byte(p)) {
			return true
		}
	}
	return false
}

// lineScanner reads a text report line by line, counting lines for errors.
type lineScanner struct {
	*bufio.Scanner
	n int
}

func newLineScanner(data []byte) *lineScanner {
	s := bufio.NewScanner(bytes.NewReader(data))
	s.Buffer(make([]byte, 64*1024), 16*1024*1024)
	return &lineScanner{Scanner: s}
}

func (s *lineScanner) next() (string, bool) {
	if !s.Scan() {
		return "", false
	}
	s.n++
	return strings.TrimSpace(s.Text()), true
}

func (s *lineScanner) errf(format string, args ...any) error {
	return fmt.Errorf("line %d: "+format, append([]any{s.n}, args...)...)
}

// parseLCOV reads SF: (file), DA:line,count records and end_of_record.
func parseLCOV(data []byte) (*Report, error) {
	r := newReport("lcov")
	s := newLineScanner(data)
	file := ""
	n := 0
	for {
		line, ok := s.next()
		if !ok {
			break
		}
		switch {
		case strings.HasPrefix(line, "SF:"):
			file = strings.TrimPrefix(line, "SF:")
		case strings.HasPrefix(line, "DA:"):
			if file == "" {
				return nil, s.errf("DA: before any SF:")
			}
			f := strings.Split(strings.TrimPrefix(line, "DA:"), ",")
			if len(f) < 2 {
				return nil, s.errf("DA: wants line,count")
			}
			ln, err1 := strconv.Atoi(f[0])
			hits, err2 := strconv.ParseFloat(f[1], 64)
			if err1 != nil || err2 != nil || ln < 1 || hits < 0 {
				return nil, s.errf("DA:%s is not line,count", strings.Join(f, ","))
			}
			if n++; n > maxLines {
				return nil, s.errf("more than %d lines", maxLines)
			}
			r.mark(file, ln, hits > 0)
		case line == "end_of_record":
			file = ""
		}
	}
	return r, s.Err()
}

// parseGo reads a Go cover profile: mode: set|count|atomic, then
// file:line.col,line.col statements count. Every line of a block takes the
// block's count.
func parseGo(data []byte) (*Report, error) {
	r := newReport("go")
	s := newLineScanner(data)
	s.next() // mode:
	n := 0
	for {
		line, ok := s.next()
		if !ok {
			break
		}
		if line == "" {
			continue
		}
		colon := strings.LastIndex(line, ":")
		f := strings.Fields(line[colon+1:])
		if colon < 0 || len(f) != 3 {
			return nil, s.errf("want file:start.col,end.col statements count")
		}
		from, to, ok1 := goRange(f[0])
		count, err := strconv.ParseInt(f[2], 10, 64)
		if !ok1 || err != nil || count < 0 {
			return nil, s.errf("%q is not a block", line)
		}
		if n += to - from + 1; n > maxLines {
			return nil, s.errf("more than %d lines", maxLines)
		}
		for l := from; l <= to; l++ {
			r.mark(line[:colon], l, count > 0)
		}
	}
	return r, s.Err()
}

// goRange reads "12.5,14.2" as lines 12 to 14.
func goRange(s string) (from, to int, ok bool) {
	a, b, found := strings.Cut(s, ",")
	if !found {
		return 0, 0, false
	}
	from, err1 := strconv.Atoi(strings.SplitN(a, ".", 2)[0])
	to, err2 := strconv.Atoi(strings.SplitN(b, ".", 2)[0])
	if err1 != nil || err2 != nil || from < 1 || to < from {
		return 0, 0, false
	}
	return from, to, true
}

// parseXML reads Cobertura (<coverage>, <class filename> with <line number
// hits>) and JaCoCo (<report>, <package name> with <sourcefile name> and
// <line nr mi ci>).
func parseXML(data []byte) (*Report, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false
	var r *Report
	var sources []string // Cobertura <source> roots
	var file, pkg string // current class file or JaCoCo package
	var inSource, inMethods bool
	n := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("coverage XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "coverage":
				if r == nil {
					r = newReport("cobertura")
				}
			case "report":
				if r == nil {
					r = newReport("jacoco")
				}
			case "source":
				inSource = true
			case "class":
				file = attr(t, "filename")
			case "methods":
				inMethods = true // method lines repeat the class's
			case "package":
				pkg = attr(t, "name")
			case "sourcefile":
				file = path.Join(pkg, attr(t, "name"))
			case "line":
				if r == nil || file == "" || inMethods {
					continue
				}
				ln, ran, ok := xmlLine(r.Format, t)
				if !ok {
					return nil, fmt.Errorf("coverage XML: a <line> of %s has no line number or hits", file)
				}
				if ln == 0 {
					continue
				}
				if n++; n > maxLines {
					return nil, fmt.Errorf("coverage XML: more than %d lines", maxLines)
				}
				r.mark(file, ln, ran)
			}
		case xml.CharData:
			if inSource {
				if s := strings.TrimSpace(string(t)); s != "" {
					sources = append(sources, s)
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "source":
				inSource = false
			case "methods":
				inMethods = false
			case "class", "sourcefile":
				file = ""
			}
		}
	}
	if r == nil {
		return nil, errors.New("not a coverage report: an XML document, but neither Cobertura's <coverage> nor JaCoCo's <report>")
	}
	r.Sources = sources
	return r, nil
}

// xmlLine reads a <line>: Cobertura's number and hits, JaCoCo's nr and
// ci (covered instructions); a JaCoCo line without instructions is 0.
func xmlLine(format string, t xml.StartElement) (line int, ran, ok bool) {
	num := func(name string) (int, bool) {
		n, err := strconv.Atoi(attr(t, name))
		return n, err == nil && n >= 0
	}
	if format == "jacoco" {
		nr, ok1 := num("nr")
		mi, ok2 := num("mi")
		ci, ok3 := num("ci")
		if !ok1 || !ok2 || !ok3 {
			return 0, false, false
		}
		if mi+ci == 0 {
			return 0, false, true
		}
		return nr, ci > 0, true
	}
	nr, ok1 := num("number")
	hits, err := strconv.ParseFloat(attr(t, "hits"), 64)
	if !ok1 || err != nil || hits < 0 {
		return 0, false, false
	}
	return nr, hits > 0, true
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// Index finds the analysed file a report's path means: reports write
// absolute paths (LCOV, Cobertura), import paths (Go) or paths under the
// package (JaCoCo), so a report path and a tree path match when one ends
// with the other, segment by segment; the longest unique match wins.
type Index struct {
	bySuffix map[string][]string
}

// NewIndex indexes the tree's paths.
func NewIndex(paths []string) *Index {
	x := &Index{bySuffix: map[string][]string{}}
	for _, p := range paths {
		for s := p; ; {
			x.bySuffix[s] = append(x.bySuffix[s], p)
			i := strings.IndexByte(s, '/')
			if i < 0 {
				break
			}
			s = s[i+1:]
		}
	}
	return x
}

// Find returns the tree path report path p means, or "".
func (x *Index) Find(p string) string {
	p = strings.ReplaceAll(p, "\\", "/")
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	for s := p; s != ""; {
		if ps := x.bySuffix[s]; len(ps) == 1 {
			return ps[0]
		} else if len(ps) > 1 {
			// Several files end so: the exact one, if any.
			for _, q := range ps {
				if q == s {
					return q
				}
			}
			return ""
		}
		i := strings.IndexByte(s, '/')
		if i < 0 {
			break
		}
		s = s[i+1:]
	}
	return ""
}
