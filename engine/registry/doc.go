// Package registry moves images between Berth's store and registries:
// pull (an index resolved to the host's linux platform, layers fetched in
// parallel and verified), push (blobs the registry has are skipped), tags,
// search (Docker Hub's search API for docker.io, the /v2/_catalog
// elsewhere), and credentials from ~/.docker/config.json.
//
// Plain HTTP is used for loopback registries and for the ones configured
// as insecure; everything else is HTTPS.
package registry
