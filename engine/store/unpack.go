package store

// Whiteout names from the OCI image spec: ".wh.x" deletes x from lower
// layers, ".wh..wh..opq" hides everything the lower layers had in a directory.
const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
)
