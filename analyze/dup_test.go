package analyze

import (
	"fmt"
	"strings"
	"testing"

	"github.com/budgetgate/budgetgate/variant"
)

// sharedBlock is twelve lines of logic that a truck and a bus file both
// carry, the bus one with its own name in it.
func sharedBlock(name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "func %sBrake(speed, load int) int {\n", name)
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&b, "\tspeed = speed - load*%d + %d\n", i+2, i*7)
	}
	b.WriteString("\treturn speed\n}\n")
	return b.String()
}

func TestFindDuplicates(t *testing.T) {
	truck := "package truck\n\nvar only = 1\n\n" + sharedBlock("Truck")
	bus := "package bus\n// a comment that does not matter\n" + strings.ReplaceAll(sharedBlock("Bus"), "\t", "    ")
	unrelated := "package van\nvar a = 1\nvar b = 2\n"
	files := []dupFile{
		fingerprint("vehicles/bus/brake.go", []string{"bus"}, []byte(bus)),
		fingerprint("vehicles/truck/brake.go", []string{"truck"}, []byte(truck)),
		fingerprint("vehicles/truck/copy.go", []string{"truck"}, []byte(truck)), // same variant: not a cross-variant copy
		fingerprint("vehicles/van/van.go", []string{"van"}, []byte(unrelated)),
	}
	dups := findDuplicates(files)
	var cross []variant.Duplicate
	for _, d := range dups {
		for _, l := range d.Locations {
			if l.Path == "vehicles/bus/brake.go" {
				cross = append(cross, d)
				break
			}
		}
	}
	if len(cross) != 1 {
		t.Fatalf("duplicates %+v", dups)
	}
	d := cross[0]
	// The function line (with the variant's name normalised away), ten
	// statements and the return: 12 lines; the closing brace is not counted.
	if d.Lines != 12 {
		t.Errorf("lines %d", d.Lines)
	}
	want := map[string][2]int{"vehicles/bus/brake.go": {3, 14}, "vehicles/truck/brake.go": {5, 16}, "vehicles/truck/copy.go": {5, 16}}
	for _, l := range d.Locations {
		if w, ok := want[l.Path]; !ok || w != [2]int{l.StartLine, l.EndLine} {
			t.Errorf("location %+v", l)
		}
	}
	if len(d.Locations) != 3 {
		t.Errorf("locations %+v", d.Locations)
	}
}

func TestNormalise(t *testing.T) {
	text, lines := normalise([]byte("  Foo  Truck(x)\n\n}\n// note\n# note\nreturn   truck\n"), []string{"truck"})
	if strings.Join(text, "|") != "foo \x00(x)|return \x00" || fmt.Sprint(lines) != "[1 6]" {
		t.Errorf("%q %v", text, lines)
	}
}

func TestRecommendationsInAnalysis(t *testing.T) {
	r := newRepo(t)
	r.write(PolicyFile, repoPolicy)
	r.write("core/engine.go", goFile(400, "e"))
	r.write("vehicles/truck/brake.go", "package truck\n"+sharedBlock("Truck"))
	r.write("vehicles/bus/brake.go", "package bus\n"+sharedBlock("Bus"))
	r.write("vehicles/bus/big.go", goFile(30, "b"))
	r.commit("copies")
	res := run(t, Options{Dir: r.dir, Rev: "HEAD", BaselineSet: true})
	var recs []variant.Recommendation
	for _, d := range res.Analysis.Dimensions {
		recs = append(recs, d.Recommendations...)
	}
	var dedup, move *variant.Recommendation
	for i := range recs {
		switch recs[i].Kind {
		case variant.RecommendDeduplicate:
			dedup = &recs[i]
		case variant.RecommendMoveToCore:
			if move == nil {
				move = &recs[i]
			}
		}
	}
	if dedup == nil || move == nil {
		t.Fatalf("recommendations %+v", recs)
	}
	// "package truck" and "package bus" match too, once the names are normalised.
	if strings.Join(dedup.Variants, ",") != "bus,truck" || dedup.Value != 13 || dedup.After >= dedup.Before {
		t.Errorf("dedup %+v", dedup)
	}
	// bus is the worst: 30 + 14 lines; its biggest file goes first.
	if move.Locations[0].Path != "vehicles/bus/big.go" || move.Value != 30 || move.Saves <= 0 {
		t.Errorf("move %+v", move)
	}
}
