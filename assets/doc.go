// Package assets embeds the files Berth ships inside its binaries: the
// application icon now, sample projects and rule docs as the app grows.
package assets

import _ "embed"

// Icon is Berth's application icon (256×256 PNG): an image's layers, stacked.
//
//go:embed icon.png
var Icon []byte
