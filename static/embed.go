// Package static holds the dashboard's CSS and icons, embedded in the binary
// so that nothing is fetched from elsewhere at run time.
package static

import "embed"

// FS is served under /static.
//
//go:embed *.css *.svg
var FS embed.FS
