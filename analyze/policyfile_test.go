package analyze

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/budgetgate/budgetgate"
	"github.com/budgetgate/budgetgate/policyfile"
)

// TestPolicyOnlyFromARegularFile: the tree's policy is read only from a
// regular file inside it, of at most 1 MiB, on the working tree, a revision
// and the index alike; --policy may point anywhere but only at a regular
// file of at most 1 MiB. Each refusal is quick and names the path.
func TestPolicyOnlyFromARegularFile(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(outside, []byte(repoPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("# padding\n", policyfile.MaxPolicyBytes/10+1) + repoPolicy
	tests := []struct {
		name  string
		setup func(r *testRepo) // makes the tree's .budgetgate.yaml
		opts  func(r *testRepo) Options
		want  string
	}{
		{"symlink to /dev/zero, working tree", func(r *testRepo) { r.symlink("/dev/zero", PolicyFile) },
			func(r *testRepo) Options { return Options{Dir: r.dir} }, ".budgetgate.yaml is a symbolic link"},
		{"symlink to a file outside, working tree", func(r *testRepo) { r.symlink(outside, PolicyFile) },
			func(r *testRepo) Options { return Options{Dir: r.dir} }, ".budgetgate.yaml is a symbolic link"},
		{"symlink inside the tree, working tree", func(r *testRepo) { r.write("p.yaml", repoPolicy); r.symlink("p.yaml", PolicyFile) },
			func(r *testRepo) Options { return Options{Dir: r.dir} }, ".budgetgate.yaml is a symbolic link"},
		{"directory, working tree", func(r *testRepo) { r.write(PolicyFile+"/x", "x") },
			func(r *testRepo) Options { return Options{Dir: r.dir} }, ".budgetgate.yaml is not a regular file"},
		{"over 1 MiB, working tree", func(r *testRepo) { r.write(PolicyFile, big) },
			func(r *testRepo) Options { return Options{Dir: r.dir} }, ".budgetgate.yaml is larger than 1048576 bytes"},
		{"symlink blob, revision", func(r *testRepo) { r.symlink("/dev/zero", PolicyFile) },
			func(r *testRepo) Options { return Options{Dir: r.dir, Rev: "HEAD"} }, "HEAD:.budgetgate.yaml is a symbolic link"},
		{"over 1 MiB, revision", func(r *testRepo) { r.write(PolicyFile, big) },
			func(r *testRepo) Options { return Options{Dir: r.dir, Rev: "HEAD"} }, "HEAD:.budgetgate.yaml is larger than 1048576 bytes"},
		{"symlink blob, index", func(r *testRepo) { r.symlink("/dev/zero", PolicyFile) },
			func(r *testRepo) Options { return Options{Dir: r.dir, Staged: true} }, "the index:.budgetgate.yaml is a symbolic link"},
		{"--policy /dev/zero", func(r *testRepo) { r.write(PolicyFile, repoPolicy) },
			func(r *testRepo) Options { return Options{Dir: r.dir, PolicyPath: "/dev/zero"} }, "/dev/zero is not a regular file"},
		{"--policy over 1 MiB", func(r *testRepo) { r.write(PolicyFile, repoPolicy); r.write("big.yaml", big) },
			func(r *testRepo) Options { return Options{Dir: r.dir, PolicyPath: filepath.Join(r.dir, "big.yaml")} }, "big.yaml is larger than 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRepo(t)
			r.write("a.go", goFile(3, "a"))
			tt.setup(r)
			r.commit("policy")
			opts := tt.opts(r)
			opts.NoCache = true
			start := time.Now()
			_, err := Run(context.Background(), opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error saying %q", err, tt.want)
			}
			if budgetgate.ErrorCode(err) != budgetgate.EINVALID {
				t.Errorf("error code %q, want invalid", budgetgate.ErrorCode(err))
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("refusing took %v", took)
			}
		})
	}
	// --policy may name a file outside the tree, as long as it is regular.
	r := newRepo(t)
	r.write("a.go", goFile(3, "a"))
	r.commit("no policy")
	if _, err := Run(context.Background(), Options{Dir: r.dir, PolicyPath: outside, NoCache: true}); err != nil {
		t.Fatalf("--policy %s: %v", outside, err)
	}
}

func (r *testRepo) symlink(target, path string) {
	r.t.Helper()
	if err := os.Symlink(target, filepath.Join(r.dir, filepath.FromSlash(path))); err != nil {
		r.t.Fatal(err)
	}
}
