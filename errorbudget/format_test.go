package errorbudget

import (
	"math"
	"testing"
)

// The expected strings below are what CPython 3 prints for the same values.

func TestPyFixed1(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0.25, "0.2"}, // exact tie: half to even
		{0.35, "0.3"}, // 0.34999999999999997...
		{2.45, "2.5"}, // 2.4500000000000001...
		{0.05, "0.1"},
		{0.15, "0.1"},
		{-0.04, "-0.0"},
		{-0.05, "-0.1"},
		{12.345, "12.3"},
		{99.95, "100.0"},
		{74.99999999999997, "75.0"},
		{0, "0.0"},
		{-50, "-50.0"},
		{1e20, "100000000000000000000.0"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
		{math.NaN(), "nan"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := pyFixed1(tt.in); got != tt.want {
				t.Errorf("pyFixed1(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestPyFloatRepr(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{50, "50.0"},
		{1.5, "1.5"},
		{2, "2.0"},
		{1e16, "1e+16"},
		{1e15, "1000000000000000.0"},
		{9999999999999998, "9999999999999998.0"},
		{0.0001, "0.0001"},
		{0.00001, "1e-05"},
		{1.5e-7, "1.5e-07"},
		{123456789.123, "123456789.123"},
		{0.30000000000000004, "0.30000000000000004"}, // 0.1+0.2 at run time
		{1e22, "1e+22"},
		{5e-324, "5e-324"},
		{math.Copysign(0, -1), "-0.0"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
		{math.NaN(), "nan"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := pyFloatRepr(tt.in); got != tt.want {
				t.Errorf("pyFloatRepr(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNumberString(t *testing.T) {
	tests := []struct {
		in   Number
		want string
	}{
		{Number{50, true}, "50"},
		{Number{0, true}, "0"},
		{Number{25, false}, "25.0"},
		{Number{1.5, false}, "1.5"},
		{Number{2, false}, "2.0"},
		{Number{math.Inf(1), false}, "inf"},
		{Number{-10, true}, "-10"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.in.String(); got != tt.want {
				t.Errorf("%#v.String() = %q, want %q", tt.in, got, tt.want)
			}
			js, err := tt.in.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if math.IsInf(tt.in.Value, 0) {
				want = `"` + want + `"`
			}
			if string(js) != want {
				t.Errorf("MarshalJSON = %s, want %s", js, want)
			}
		})
	}
}

func TestPyCapitalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"high", "High"},
		{"HIGH", "High"},
		{"mEDium", "Medium"},
		{"", ""},
		{"1st", "1st"},
		{"ß", "Ss"},
		{"ßig", "Ssig"},
		{"ǆa", "ǅa"},
		{"ΣΑΣ", "Σας"},
		{"ΑΣ Β", "Ας β"},
		{"İI", "İi"},
		{"ﬁx", "Fix"},
		{"Σ", "Σ"},
		{"aΣ", "Aς"},
		{"x\u0301Σ", "X\u0301ς"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := pyCapitalize(tt.in); got != tt.want {
				t.Errorf("pyCapitalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
