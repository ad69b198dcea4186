package buildkit

import (
	"context"
	"fmt"

	"github.com/berth-dev/berth/engine"
	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/session"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// checkCache refuses, before any work, the cache sources and targets
// Berth does not take: it imports and exports its own cache through a
// registry (--cache-from/--cache-to type=registry,ref=…).
func checkCache(req *controlapi.SolveRequest) error {
	if req.Cache == nil {
		return nil
	}
	for _, c := range append(append([]*controlapi.CacheOptionsEntry{}, req.Cache.Imports...), req.Cache.Exports...) {
		if c.Type != "registry" {
			return status.Errorf(codes.Unimplemented, "Berth's builder keeps its cache in a registry only: use --cache-to/--cache-from type=registry,ref=… (not type=%s)", c.Type)
		}
		if c.Attrs["ref"] == "" {
			return status.Errorf(codes.InvalidArgument, "a registry cache needs a ref: type=registry,ref=registry.example.com/app:buildcache")
		}
	}
	return nil
}

// importCache takes the build cache the job's --cache-from names into
// Berth's cache: pulled as an image, its entries read, the image's name
// dropped (its layers stay, as the cache's). A cache that cannot be had
// is a warning, not a failure: the build runs without it, as BuildKit's.
func (s *Server) importCache(ctx context.Context, j *job, caller session.Caller, v *vertices) {
	if j.solve.Cache == nil {
		return
	}
	for _, c := range j.solve.Cache.Imports {
		ref := c.Attrs["ref"]
		v.run("cache-from "+ref, "importing cache from "+ref, func(d string) error {
			id, err := s.b.Pull(ctx, ref, sessionAuth(ctx, caller, ref), nil)
			if err != nil {
				v.warn(d, fmt.Sprintf("the cache %s could not be pulled: %v", ref, err))
				return nil
			}
			defer s.b.Remove(context.WithoutCancel(ctx), ref)
			n, err := s.b.Builder.ImportCache(id)
			if err != nil {
				v.warn(d, err.Error())
				return nil
			}
			v.log(d, 1, fmt.Sprintf("%d cached steps\n", n))
			return nil
		})
	}
}

// exportCache pushes the cache of the build's steps to each --cache-to
// registry ref.
func (s *Server) exportCache(ctx context.Context, j *job, req *controlapi.SolveRequest, res engine.BuildResult, caller func() (session.Caller, error)) error {
	if req.Cache == nil {
		return nil
	}
	v := newVertices(j.progress, j.ref)
	for _, c := range req.Cache.Exports {
		ref := c.Attrs["ref"]
		err := v.run("cache-to "+ref, "exporting cache to "+ref, func(d string) error {
			cl, err := caller()
			if err != nil {
				return err
			}
			if _, err := s.b.Builder.ExportCache(ctx, res.CacheKeys, ref); err != nil {
				return err
			}
			defer s.b.Remove(context.WithoutCancel(ctx), ref)
			digest, err := s.b.Push(ctx, ref, sessionAuth(ctx, cl, ref), nil)
			if err != nil {
				return err
			}
			v.log(d, 1, fmt.Sprintf("%d steps pushed as %s@%s\n", len(res.CacheKeys), ref, digest))
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
