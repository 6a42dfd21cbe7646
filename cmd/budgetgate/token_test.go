package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestTokenCommand(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "tokens.db")
	run1 := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(ctx, args, &out, &errb)
		return code, out.String(), errb.String()
	}
	code, out, errs := run1("token", "create", "--db", dbPath, "--name", "ci", "--scopes", "ingest,gate,read")
	if code != exitOK || !regexp.MustCompile(`^bgt_[A-Z2-7]{26}\n$`).MatchString(out) {
		t.Fatalf("create: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	secret := strings.TrimSpace(out)

	tests := []struct {
		name string
		args []string
		code int
		out  string // expected in stdout
	}{
		{"unknown scope", []string{"token", "create", "--db", dbPath, "--name", "x", "--scopes", "admin"}, exitError, ""},
		{"no name", []string{"token", "create", "--db", dbPath, "--scopes", "read"}, exitError, ""},
		{"the baseline branch's token", []string{"token", "create", "--db", dbPath, "--name", "ci-main", "--scopes", "ingest,gate,read,baseline"}, exitOK, "bgt_"},
		{"list shows the prefix only", []string{"token", "list", "--db", dbPath}, exitOK, secret[:12] + "..."},
		{"list shows the baseline scope", []string{"token", "list", "--db", dbPath}, exitOK, "baseline"},
		{"revoke", []string{"token", "revoke", "--db", dbPath, "1"}, exitOK, ""},
		{"revoke again", []string{"token", "revoke", "--db", dbPath, "1"}, exitError, ""},
		{"revoke nonsense", []string{"token", "revoke", "--db", dbPath, "ci"}, exitError, ""},
		{"no subcommand", []string{"token"}, exitError, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := run1(tt.args...)
			if code != tt.code || !strings.Contains(out, tt.out) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d with %q", code, out, errs, tt.code, tt.out)
			}
			if strings.Contains(out, secret) {
				t.Error("the secret is printed again")
			}
		})
	}
}
