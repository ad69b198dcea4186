// Package buildkit serves BuildKit's API, the one the docker CLI's buildx
// plugin speaks to an engine with its "docker" driver, over Berth's own
// builder: `docker build` and `docker buildx build` then build on Berth
// with no flag and no builder container, into Berth's store and cache.
//
// buildx dials POST /grpc and POST /session, both upgraded to HTTP/2
// (h2c). On /session the client serves its side: the build context and
// Dockerfile (FileSync), credentials and secrets. On /grpc the engine
// serves BuildKit's Control service (Solve, Status, ListWorkers, Info) and
// the frontend gateway (LLBBridge), through which buildx asks for the
// "dockerfile.v0" frontend: Berth answers that with its own Dockerfile
// builder instead of BuildKit's solver, which is why it is fast and
// shares the cache of the app's builds. Why this over embedding BuildKit's
// solver: docs/buildkit.md.
package buildkit
