package handlers

import (
	"bytes"
	"math"
	"strconv"
	"strings"
)

// Exposition writes the Prometheus text exposition format (version 0.0.4):
// each family once, its HELP and TYPE lines first, then its samples.
// Families must be written whole, one after another, as the format asks.
type Exposition struct {
	buf    bytes.Buffer
	family string
}

// ExpositionContentType is the Content-Type of the text format.
const ExpositionContentType = "text/plain; version=0.0.4; charset=utf-8"

// Family starts a metric family: kind is gauge, counter or histogram.
func (x *Exposition) Family(name, kind, help string) {
	x.family = name
	x.buf.WriteString("# HELP " + name + " " + escapeHelp(help) + "\n")
	x.buf.WriteString("# TYPE " + name + " " + kind + "\n")
}

// Sample writes one sample of the current family; labels come in name,
// value pairs. suffix is added to the family name (_bucket, _sum, _count
// for histograms; empty otherwise).
func (x *Exposition) Sample(suffix string, value float64, labels ...string) {
	x.buf.WriteString(x.family + suffix)
	if len(labels) > 0 {
		x.buf.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				x.buf.WriteByte(',')
			}
			x.buf.WriteString(labels[i] + `="` + escapeLabel(labels[i+1]) + `"`)
		}
		x.buf.WriteByte('}')
	}
	x.buf.WriteByte(' ')
	x.buf.WriteString(formatValue(value))
	x.buf.WriteByte('\n')
}

// Bytes returns what was written.
func (x *Exposition) Bytes() []byte { return x.buf.Bytes() }

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }
