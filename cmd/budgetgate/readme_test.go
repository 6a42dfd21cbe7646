package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate/demo"
	"github.com/budgetgate/budgetgate/variant"
)

// TestReadmeIsTrue checks what the README says that a test can check: the
// figures it quotes for the demo's branch abc123, measured by the command
// it gives for the demo repository, run there; that the gate examples
// name their server; and that the make variables it relies on exist.
func TestReadmeIsTrue(t *testing.T) {
	src, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(src)

	t.Run("abc123 figures", func(t *testing.T) {
		if _, err := exec.LookPath("git"); err != nil {
			t.Skip("git is not installed")
		}
		t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
		repo := filepath.Join(t.TempDir(), "demo-repo")
		if err := demo.GenerateRepository(context.Background(), repo, time.Now()); err != nil {
			t.Fatal(err)
		}
		cmdLine := regexp.MustCompile("cd data/demo-repo && budgetgate (analyze [^`]+)`").FindStringSubmatch(readme)
		if cmdLine == nil {
			t.Fatal("the README gives no analyze command for the demo repository")
		}
		cmd := exec.Command(binary, append(strings.Fields(cmdLine[1]), "--format", "json")...)
		cmd.Dir = repo
		out, err := cmd.Output()
		var exit *exec.ExitError
		if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
			t.Fatalf("budgetgate %s in the demo repository: %v\n%s", cmdLine[1], err, out)
		}
		var a variant.Analysis
		if err := json.Unmarshal(out, &a); err != nil {
			t.Fatalf("decoding the analysis: %v", err)
		}
		if a.Status != variant.AnalysisBlocked {
			t.Errorf("abc123 is %s, the README says blocked", a.Status)
		}
		quoted := regexp.MustCompile(`share to ([0-9.]+)% of its complexity and ([0-9.]+)% of its code lines`).FindStringSubmatch(strings.Join(strings.Fields(readme), " "))
		if quoted == nil {
			t.Fatal("the README no longer quotes the truck's figures; update this test")
		}
		truck := truckMetrics(a)
		for i, metric := range []string{"cyclomatic_complexity", "lines_of_code"} {
			if got := fmt.Sprintf("%.2f", truck[metric].Delta); got != quoted[i+1] {
				t.Errorf("the README says truck's %s is %s%%, the analysis measures %s%%", metric, quoted[i+1], got)
			}
		}
	})

	t.Run("gate examples name the server", func(t *testing.T) {
		flat := strings.Join(strings.Fields(readme), " ")
		for _, m := range regexp.MustCompile("`budgetgate gate [^`]*`").FindAllString(flat, -1) {
			if !strings.Contains(m, "--server") {
				t.Errorf("%s omits --server: it would ask 127.0.0.1:8080 whatever ADDR the reader chose", m)
			}
		}
	})

	t.Run("make variables", func(t *testing.T) {
		mk, err := os.ReadFile("../../Makefile")
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"ADDR", "DATA"} {
			if !strings.Contains(readme, v+"=") || !strings.Contains(string(mk), v+" ") {
				t.Errorf("%s: the README and the Makefile must both know it", v)
			}
		}
	})
}

// truckMetrics are the truck variant's figures in the vehicle dimension.
func truckMetrics(a variant.Analysis) map[string]variant.VariantMetric {
	for _, d := range a.Dimensions {
		for _, v := range d.Variants {
			if d.Name == "vehicle" && v.Name == "truck" {
				return v.Metrics
			}
		}
	}
	return nil
}
