package budgetgate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Role is what a signed-in user may do (see docs/OPERATIONS.md). Every signed-in user is a
// viewer; the others come from the identity provider's groups.
type Role string

const (
	RoleViewer Role = "viewer" // reads the dashboard
	RoleCCB    Role = "ccb"    // votes on exception requests
	RoleSRE    Role = "sre"    // policies
	RoleAdmin  Role = "admin"  // tokens, settings
)

// RoleGroups names the identity provider's group that grants each role.
type RoleGroups struct {
	CCB   string
	SRE   string
	Admin string
}

// DefaultRoleGroups are the group names used unless configured otherwise.
var DefaultRoleGroups = RoleGroups{CCB: "ccb", SRE: "sre", Admin: "admin"}

// RolesFromGroups maps a user's groups to roles. It is applied at every
// login, so a user removed from a group loses the role at the next sign-in.
func RolesFromGroups(groups []string, rg RoleGroups) []Role {
	roles := []Role{RoleViewer}
	for _, pair := range []struct {
		group string
		role  Role
	}{{rg.CCB, RoleCCB}, {rg.SRE, RoleSRE}, {rg.Admin, RoleAdmin}} {
		if pair.group != "" && slices.Contains(groups, pair.group) {
			roles = append(roles, pair.role)
		}
	}
	return roles
}

// User is a person signed in through OIDC, keyed by (Issuer, Subject).
type User struct {
	ID       int64
	Issuer   string
	Subject  string
	Name     string
	Email    string
	Username string // preferred_username, as the identity provider sends it
	Roles    []Role
}

// Has reports whether the user holds role.
func (u User) Has(r Role) bool { return slices.Contains(u.Roles, r) }

// Actor is how the user appears in the audit log and on votes.
func (u User) Actor() Actor { return Actor{Issuer: u.Issuer, Subject: u.Subject, Name: u.Name} }

// DisplayName picks the most readable of the claims an identity provider
// sent, falling back to the subject, which is always present.
func DisplayName(name, preferredUsername, email, subject string) string {
	for _, s := range []string{name, preferredUsername, email} {
		if s = strings.TrimSpace(s); s != "" {
			return s
		}
	}
	return subject
}

// Token scopes (see docs/OPERATIONS.md): what an API token may do.
const (
	ScopeIngest = "ingest" // post SLI data and analyses
	ScopeGate   = "gate"   // ask the gate, request exceptions
	ScopeRead   = "read"   // read figures, decisions and requests
	ScopePolicy = "policy" // upload error-budget policies (SRE automation)
	// ScopeBaseline lets a posted analysis be recorded as the project's
	// baseline: what the deployment gate and compliance are judged on. It
	// belongs to the CI job of the baseline branch alone; every other
	// posted analysis is a change, whatever it says about itself.
	ScopeBaseline = "baseline"
)

// TokenScopes lists the scopes in the order they are shown.
var TokenScopes = []string{ScopeIngest, ScopeGate, ScopeRead, ScopePolicy, ScopeBaseline}

// ParseScopes parses a comma-separated scope list, refusing unknown and
// empty lists; the result is sorted in TokenScopes order without duplicates.
func ParseScopes(s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !slices.Contains(TokenScopes, part) {
			return nil, FieldErrorf("scopes", "unknown scope %q: want one of %s", part, strings.Join(TokenScopes, ", "))
		}
		if !slices.Contains(out, part) {
			out = append(out, part)
		}
	}
	if len(out) == 0 {
		return nil, FieldErrorf("scopes", "at least one of %s is required", strings.Join(TokenScopes, ", "))
	}
	slices.SortFunc(out, func(a, b string) int {
		return slices.Index(TokenScopes, a) - slices.Index(TokenScopes, b)
	})
	return out, nil
}

var tokenName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$`)

// ValidateTokenName checks a token's name: short, printable, no surprises in
// a listing.
func ValidateTokenName(name string) error {
	if name == "" {
		return FieldErrorf("name", "required")
	}
	if !utf8.ValidString(name) || !tokenName.MatchString(name) {
		return FieldErrorf("name", "1 to 100 letters, digits, spaces, dots, dashes or underscores, starting with a letter or digit")
	}
	return nil
}

// Token is an API token as listed: the secret itself is shown once at
// creation and stored only as a hash.
type Token struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"` // the first characters, to recognise it
	Scopes     []string   `json:"scopes"`
	CreatedBy  Actor      `json:"created_by"`
	Owner      Actor      `json:"owner"` // the person it belongs to; zero for a CLI-made token
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// Allows reports whether the token may be used for scope.
func (t Token) Allows(scope string) bool {
	return t.RevokedAt == nil && slices.Contains(t.Scopes, scope)
}

// Actor is how requests made with the token appear in the audit log.
func (t Token) Actor() Actor {
	return Actor{Issuer: TokenIssuer, Subject: fmt.Sprintf("token:%d", t.ID), Name: "token " + t.Name}
}

// HasOwner reports whether the token belongs to a person.
func (t Token) HasOwner() bool { return t.Owner.Issuer != "" && t.Owner.Subject != "" }

// TokenIssuer is the issuer recorded for actions taken with API tokens, so
// that they can never collide with an OIDC user's (issuer, subject).
const TokenIssuer = "budgetgate:token"
