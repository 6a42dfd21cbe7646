// Package tricky holds comment markers where they are not comments.
package tricky

import "strings"

/*
Block comment over lines.
*/

const glob = "src/**/*.go" // the */ in the string closes nothing

var quote = '"'
var slash = '/'

// Program is Go source held in a raw string.
const program = `package main

// not a comment: inside a raw string
func main() {
	println("hi") /* nor this */
}
`

func Count(s string) int {
	n := strings.Count(s, "//") /* trailing block */ + 1
	if n > 1 && s != "" || quote == '\'' {
		return n
	}
	return 0
}
