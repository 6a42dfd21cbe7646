package budgetgate

import "math"

// MaxExact is the largest count or sum the server stores or adds up: 2^53,
// the largest integer below which every integer is exact in float64. Counts
// leave the server as JSON numbers and Prometheus samples (float64 for most
// readers) and a PostgreSQL store would sum them as numeric; kept at or below
// this bound they stay exact everywhere. A write that would carry a stored
// count or sum past it is refused (docs/OPERATIONS.md).
const MaxExact int64 = 1 << 53

// CheckCount refuses a count outside [0, MaxExact], naming field.
func CheckCount(field string, n int64) error {
	if n < 0 {
		return FieldErrorf(field, "must be >= 0")
	}
	if n > MaxExact {
		return FieldErrorf(field, "%d is over %d, the largest count stored exactly", n, MaxExact)
	}
	return nil
}

// CheckNumber refuses a measured value (a metric, a duration) that is not a
// finite number within ±MaxExact, naming field: sums of such values stay
// finite and comparable.
func CheckNumber(field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return FieldErrorf(field, "must be a finite number")
	}
	if math.Abs(v) > float64(MaxExact) {
		return FieldErrorf(field, "%g is outside ±%d, the largest magnitude stored exactly", v, MaxExact)
	}
	return nil
}
