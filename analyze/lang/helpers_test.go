package lang

// Languages returns every language the package knows, code and non-code:
// the tests go through all of them.
func Languages() []*Language {
	return append([]*Language(nil), allLanguages...)
}

// Lines is the number of lines Code, Comment and Blank add up to: every
// line of the input, which the tests check against cloc and the input.
func (c Counts) Lines() int { return c.Code + c.Comment + c.Blank }
