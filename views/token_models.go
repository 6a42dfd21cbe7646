package views

import (
	"github.com/budgetgate/budgetgate"
)

// TokensView is the admin's API token page.
type TokensView struct {
	Page
	Tokens    []*budgetgate.Token
	NewSecret string // shown once, right after creation
	NewToken  *budgetgate.Token
	Error     string
	Form      TokenForm
}

// TokenForm is a token request as typed.
type TokenForm struct {
	Name   string
	Scopes []string
}

// Has reports whether scope is ticked.
func (f TokenForm) Has(scope string) bool {
	for _, s := range f.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}
