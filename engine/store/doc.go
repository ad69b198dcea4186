// Package store keeps images on disk: a content-addressed OCI image layout
// (blobs/sha256/…, oci-layout, index.json) plus each layer unpacked once
// under layers/sha256/<diffID>, ready to be an overlayfs lower directory.
//
// Crash consistency comes from ordering, not from a journal:
//   - a blob is written to tmp/, hashed while written, checked against its
//     digest and size, synced, then renamed into blobs/ — a file under
//     blobs/ is always complete and correct;
//   - a layer is unpacked into tmp/, its uncompressed digest (diff ID)
//     checked, the filesystem synced, then renamed into layers/;
//   - an image becomes visible only when state.json, written to a
//     temporary file and renamed, names it — after all of its blobs and
//     layers are in place.
//
// Open clears tmp/, so a pull cut off half-way leaves nothing behind but
// the blobs it finished, which the next pull of the same image reuses.
// One process owns a data root at a time (an exclusive lock file).
package store
