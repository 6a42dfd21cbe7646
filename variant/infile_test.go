package variant

import (
	"strings"
	"testing"
)

func TestConditionsPolicy(t *testing.T) {
	p, err := ParseVariantPolicy("p.yaml", []byte(`project: fw
dimensions:
  port:
    conditions: ["MICROPY_PY_{variant}", "MICROPY_{variant}"]
  platform:
    variants: ["platform/{variant}/**"]
    build_constraints: true
port_budget: {hard_limit: 5, metrics: [lines_of_code]}
`))
	if err != nil {
		t.Fatal(err)
	}
	port := p.Dimension("port")
	for macro, want := range map[string]string{
		"MICROPY_PY_SSL_FINALISER": "SSL_FINALISER", // the whole rest of the name
		"MICROPY_PY_SSL":           "SSL",
		"MICROPY_HW_USB":           "HW_USB",
		"MICROPY_PY_":              "PY_", // the longer prefix needs a rest
		"OTHER_PY_SSL":             "",
	} {
		if got, _ := port.ConditionVariant(macro); got != want {
			t.Errorf("%s names %q, want %q", macro, got, want)
		}
	}
	if !p.Dimension("platform").BuildConstraints || port.BuildConstraints {
		t.Error("build_constraints not read")
	}
	for _, tc := range []struct{ yaml, want string }{
		{"dimensions:\n  port:\n    conditions: [\"CONFIG_X\"]\n", "p.yaml:4:18: port.conditions: \"CONFIG_X\" must be a macro name prefix followed by {variant}"},
		{"dimensions:\n  port:\n    conditions: [\"{variant}_X\"]\n", "p.yaml:4:18: port.conditions"},
		{"dimensions:\n  port:\n    condition: [\"C_{variant}\"]\n", "p.yaml:4:5: unknown key \"condition\" in dimension port"},
		{"dimensions:\n  port:\n    build_constraints: yes please\n", "p.yaml:4:24: port.build_constraints must be true or false"},
		{"dimensions:\n  port:\n    build_constraints: false\n", "p.yaml:3:3: dimension port has no variants"},
	} {
		_, err := ParseVariantPolicy("p.yaml", []byte("project: fw\n"+tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
