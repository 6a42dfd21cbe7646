package handlers

import (
	"time"

	"github.com/budgetgate/budgetgate/errorbudget"
)

// decodeSLIFast decodes the common, well-formed shape of an SLI body
// ({"events":[{"time":"...","good":N,"total":N}, ...]}, any key order and
// white space) several times faster than encoding/json. It answers ok=false
// for anything else (escapes, duplicate or unknown keys, numbers that are
// not plain integers, any syntax error), and the caller then takes the
// strict decoder, which accepts the same documents and names what is wrong
// in the others. FuzzDecodeSLIFast holds the two to the same answers.
func decodeSLIFast(body []byte) ([]errorbudget.SLIEvent, bool) {
	d := fastDecoder{b: body}
	if !d.byte('{') || !d.key("events") || !d.byte('[') {
		return nil, false
	}
	events := make([]errorbudget.SLIEvent, 0, len(body)/60)
	if d.peek() == ']' {
		d.i++
	} else {
		for {
			e, ok := d.event()
			if !ok {
				return nil, false
			}
			events = append(events, e)
			if d.byte(',') {
				continue
			}
			if !d.byte(']') {
				return nil, false
			}
			break
		}
	}
	if !d.byte('}') {
		return nil, false
	}
	d.space()
	return events, d.i == len(d.b)
}

type fastDecoder struct {
	b []byte
	i int
}

func (d *fastDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDecoder) peek() byte {
	d.space()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *fastDecoder) byte(c byte) bool {
	if d.peek() != c {
		return false
	}
	d.i++
	return true
}

// str reads a string without escapes and returns its bytes.
func (d *fastDecoder) str() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start := d.i
	for d.i < len(d.b) {
		switch c := d.b[d.i]; {
		case c == '"':
			d.i++
			return d.b[start : d.i-1], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false // escapes, control bytes and non-ASCII: the strict path
		}
		d.i++
	}
	return nil, false
}

func (d *fastDecoder) key(want string) bool {
	k, ok := d.str()
	return ok && string(k) == want && d.byte(':')
}

// int reads a JSON integer that fits in 15 digits: no sign (negatives go to
// the strict path, which names the field), no fraction, no exponent, no
// leading zero.
func (d *fastDecoder) int() (int64, bool) {
	d.space()
	start, n := d.i, int64(0)
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		n = n*10 + int64(d.b[d.i]-'0')
		d.i++
	}
	digits := d.i - start
	if digits == 0 || digits > 15 || (digits > 1 && d.b[start] == '0') {
		return 0, false
	}
	if d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		return 0, false
	}
	return n, true
}

func (d *fastDecoder) event() (errorbudget.SLIEvent, bool) {
	var e errorbudget.SLIEvent
	if !d.byte('{') {
		return e, false
	}
	var seen [3]bool
	for k := 0; k < 3; k++ {
		if k > 0 && !d.byte(',') {
			return e, false
		}
		name, ok := d.str()
		if !ok || !d.byte(':') {
			return e, false
		}
		switch string(name) {
		case "time":
			s, ok := d.str()
			if !ok || seen[0] {
				return e, false
			}
			t, err := time.Parse(time.RFC3339, string(s))
			if err != nil {
				return e, false
			}
			e.Time, seen[0] = t.UTC(), true
		case "good":
			if e.Good, ok = d.int(); !ok || seen[1] {
				return e, false
			}
			seen[1] = true
		case "total":
			if e.Total, ok = d.int(); !ok || seen[2] {
				return e, false
			}
			seen[2] = true
		default:
			return e, false
		}
	}
	return e, d.byte('}')
}
