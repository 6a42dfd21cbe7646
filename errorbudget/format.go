package errorbudget

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The release gate must answer with the reference gate's strings byte for byte, and the
// reference gate builds them with Python f-strings. These helpers reproduce the three
// Python behaviours it relies on.

// pyFixed1 formats x as Python's f'{x:.1f}'. Both Python and strconv round the
// exact binary value half to even (0.25 -> "0.2", 0.35 -> "0.3", 2.45 -> "2.5"),
// so only the non-finite spellings differ.
func pyFixed1(x float64) string {
	if s, ok := pyNonFinite(x); ok {
		return s
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}

// pyNonFinite spells infinities and NaN as Python prints them.
func pyNonFinite(x float64) (string, bool) {
	switch {
	case math.IsInf(x, 1):
		return "inf", true
	case math.IsInf(x, -1):
		return "-inf", true
	case math.IsNaN(x):
		return "nan", true
	}
	return "", false
}

// pyFloatRepr formats x as Python's str(float) (which is repr): the shortest
// string that round-trips, with ".0" on integral values, and exponent form
// when the decimal exponent is below -4 or at least 16 ("1e-05", "1e+16").
func pyFloatRepr(x float64) string {
	if s, ok := pyNonFinite(x); ok {
		return s
	}
	// strconv's shortest 'e' form gives the digits and the exponent; Go and
	// Python agree on the exponent spelling (sign, at least two digits).
	e := strconv.FormatFloat(x, 'e', -1, 64)
	i := strings.IndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[i+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	f := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.ContainsRune(f, '.') {
		f += ".0"
	}
	return f
}

// String formats n as Python's str() would print the value the reference gate's policy
// holds: 50 for an int, 2.0 or inf for a float.
func (n Number) String() string {
	if n.IsInt && !math.IsInf(n.Value, 0) && !math.IsNaN(n.Value) {
		return strconv.FormatFloat(n.Value, 'f', 0, 64)
	}
	return pyFloatRepr(n.Value)
}

// MarshalJSON writes a finite Number as a JSON number spelled as Python would
// print it (50, 2.0), and an infinite one as the string "inf", since JSON has
// no infinity.
func (n Number) MarshalJSON() ([]byte, error) {
	s := n.String()
	if math.IsInf(n.Value, 0) || math.IsNaN(n.Value) {
		return []byte(strconv.Quote(s)), nil
	}
	return []byte(s), nil
}

// pyCapitalize is Python's str.capitalize(): the first character in title
// case, the rest in lower case. ASCII is exact; beyond it, Go's simple case
// mappings are used plus the special cases a risk level could plausibly hit
// (ß and the Latin ligatures, dotted capital I, final sigma).
func pyCapitalize(s string) string {
	if s == "" {
		return s
	}
	if isASCII(s) {
		b := []byte(strings.ToLower(s))
		if 'a' <= b[0] && b[0] <= 'z' {
			b[0] -= 'a' - 'A'
		}
		return string(b)
	}
	runes := []rune(s)
	var sb strings.Builder
	if t, ok := pyTitleSpecial[runes[0]]; ok {
		sb.WriteString(t)
	} else {
		sb.WriteRune(unicode.ToTitle(runes[0]))
	}
	for i := 1; i < len(runes); i++ {
		r := runes[i]
		switch {
		case r == 'İ':
			sb.WriteString("i\u0307")
		case r == 'Σ':
			if finalSigma(runes, i) {
				sb.WriteRune('ς')
			} else {
				sb.WriteRune('σ')
			}
		default:
			sb.WriteRune(unicode.ToLower(r))
		}
	}
	return sb.String()
}

// pyTitleSpecial holds the unconditional multi-character title-case mappings
// of Unicode's SpecialCasing.txt for Latin letters.
var pyTitleSpecial = map[rune]string{
	'ß': "Ss", 'ŉ': "ʼN", 'ǰ': "J̌",
	'ﬀ': "Ff", 'ﬁ': "Fi", 'ﬂ': "Fl", 'ﬃ': "Ffi", 'ﬄ': "Ffl", 'ﬅ': "St", 'ﬆ': "St",
}

// finalSigma reports whether the capital sigma at runes[i] ends a word in the
// sense of Unicode's Final_Sigma condition: a cased letter before it and none
// after it, skipping case-ignorable characters.
func finalSigma(runes []rune, i int) bool {
	j := i - 1
	for j >= 0 && caseIgnorable(runes[j]) {
		j--
	}
	if j < 0 || !cased(runes[j]) {
		return false
	}
	k := i + 1
	for k < len(runes) && caseIgnorable(runes[k]) {
		k++
	}
	return k == len(runes) || !cased(runes[k])
}

func cased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)
}

func caseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '^', '`', '\u00b7', '\u2019':
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
