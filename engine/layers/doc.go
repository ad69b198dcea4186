// Package layers explains an image layer by layer: what each layer added,
// changed or removed relative to the layers below, the step that made it,
// the merged file tree as seen from any layer, and where space is wasted
// (bytes written in one layer and overwritten or deleted in a later one).
//
// The analysis is a pure function over per-layer entry lists (Analyze);
// entries come from the store's unpacked layers (a metadata walk, no file
// content read) or from layer tars (headers only). Nothing is written to
// disk, and no UI state lives here.
//
// Algorithm. Layers are applied base first to a map from path to the
// entry currently visible. For each entry of layer i:
//   - a whiteout removes the path and everything below it: Removed;
//   - an opaque directory removes everything below it from lower layers;
//   - a path not visible before is Added, a visible one Modified.
//
// Every regular file's size is counted once per layer it appears in
// (TotalBytes). A path's wasted bytes are its sizes in all layers minus
// the size still visible in the final image (0 when removed); Wasted is
// their sum and Efficiency = 1 - Wasted/TotalBytes (1 for an empty
// image), the measure dive uses.
package layers
