package buildkit

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/berth-dev/berth/engine"
	"github.com/containerd/containerd/v2/core/content"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/session"
	sessioncontent "github.com/moby/buildkit/session/content"
	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// checkCache refuses, before any work, the cache sources and targets
// Berth does not take: it imports and exports its own cache through a
// registry (type=registry,ref=…) or the client's folder (type=local).
func checkCache(req *controlapi.SolveRequest) error {
	if req.Cache == nil {
		return nil
	}
	for _, c := range append(append([]*controlapi.CacheOptionsEntry{}, req.Cache.Imports...), req.Cache.Exports...) {
		switch c.Type {
		case "registry":
			if c.Attrs["ref"] == "" {
				return status.Errorf(codes.InvalidArgument, "a registry cache needs a ref: type=registry,ref=registry.example.com/app:buildcache")
			}
		case "local": // the client's folder, through its session
		case "inline": // in the image itself (export)
		default:
			return status.Errorf(codes.Unimplemented, "Berth's builder keeps its cache in a registry or a folder: use --cache-to/--cache-from type=registry,ref=… or type=local,dest=…/src=… (not type=%s)", c.Type)
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
		ref := cmp.Or(c.Attrs["ref"], c.Attrs["src"])
		v.run("cache-from "+ref, "importing cache from "+ref, func(d string) error {
			var id string
			var err error
			if c.Type == "local" {
				id, err = s.fromClientStore(ctx, caller, "local:"+c.Attrs["src"], c.Attrs["digest"])
			} else {
				id, err = s.b.Pull(ctx, ref, sessionAuth(ctx, caller, ref), nil)
			}
			if err != nil {
				v.warn(d, fmt.Sprintf("the cache %s could not be read: %v", ref, err))
				return nil
			}
			defer s.b.Remove(context.WithoutCancel(ctx), id)
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
func (s *Server) exportCache(ctx context.Context, j *job, req *controlapi.SolveRequest, res engine.BuildResult, caller func() (session.Caller, error), out map[string]string) error {
	if req.Cache == nil {
		return nil
	}
	v := newVertices(j.progress, j.ref)
	for _, c := range req.Cache.Exports {
		if c.Type == "inline" {
			continue // the image carries it: see inlineCache
		}
		ref := cmp.Or(c.Attrs["ref"], c.Attrs["dest"])
		err := v.run("cache-to "+ref, "exporting cache to "+ref, func(d string) error {
			cl, err := caller()
			if err != nil {
				return err
			}
			if c.Type == "local" {
				id, err := s.b.Builder.ExportCache(ctx, res.CacheKeys, "")
				if err != nil {
					return err
				}
				defer s.b.Remove(context.WithoutCancel(ctx), id)
				desc, err := s.toClientStore(ctx, cl, "local:"+c.Attrs["dest"], id)
				if err != nil {
					return err
				}
				// The client records it in the folder's index.json.
				raw, _ := json.Marshal(desc)
				out["cache.manifest"] = string(raw)
				v.log(d, 1, fmt.Sprintf("%d steps written as %s\n", len(res.CacheKeys), desc.Digest))
				return nil
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

// inlineCache adds, for --cache-to type=inline, the build's cache to the
// image itself (its names move to the new image), and returns the result
// as it now is.
func (s *Server) inlineCache(ctx context.Context, req *controlapi.SolveRequest, res engine.BuildResult) (engine.BuildResult, error) {
	if req.Cache == nil || !slices.ContainsFunc(req.Cache.Exports, func(c *controlapi.CacheOptionsEntry) bool { return c.Type == "inline" }) {
		return res, nil
	}
	id, err := s.b.Builder.WithInlineCache(ctx, res.ImageID, res.CacheKeys, res.Tags)
	if err != nil {
		return res, err
	}
	res.ImageID = id
	return res, nil
}

// toClientStore writes a stored image's blobs (layers, config, manifest)
// into a content store the client's session offers (a --cache-to
// type=local folder), and returns the manifest's descriptor.
func (s *Server) toClientStore(ctx context.Context, caller session.Caller, storeID, id string) (ocispecs.Descriptor, error) {
	cs := sessioncontent.NewCallerStore(caller, storeID)
	img, err := s.b.Image(id)
	if err != nil {
		return ocispecs.Descriptor{}, err
	}
	layers, err := img.Layers()
	if err != nil {
		return ocispecs.Descriptor{}, err
	}
	write := func(mediaType string, dgst v1.Hash, size int64, open func() (io.ReadCloser, error)) error {
		r, err := open()
		if err != nil {
			return err
		}
		defer r.Close()
		desc := ocispecs.Descriptor{MediaType: mediaType, Digest: digest.Digest(dgst.String()), Size: size}
		return content.WriteBlob(ctx, cs, dgst.String(), r, desc)
	}
	for _, l := range layers {
		dgst, err := l.Digest()
		if err != nil {
			return ocispecs.Descriptor{}, err
		}
		size, _ := l.Size()
		mt, _ := l.MediaType()
		if err := write(string(mt), dgst, size, l.Compressed); err != nil {
			return ocispecs.Descriptor{}, fmt.Errorf("write layer %s: %w", dgst, err)
		}
	}
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return ocispecs.Descriptor{}, err
	}
	cfgName, _ := img.ConfigName()
	if err := write(ocispecs.MediaTypeImageConfig, cfgName, int64(len(rawConfig)), bytesOpener(rawConfig)); err != nil {
		return ocispecs.Descriptor{}, err
	}
	rawManifest, err := img.RawManifest()
	if err != nil {
		return ocispecs.Descriptor{}, err
	}
	mdgst, _ := img.Digest()
	mt, _ := img.MediaType()
	if err := write(string(mt), mdgst, int64(len(rawManifest)), bytesOpener(rawManifest)); err != nil {
		return ocispecs.Descriptor{}, err
	}
	return ocispecs.Descriptor{MediaType: string(mt), Digest: digest.Digest(mdgst.String()), Size: int64(len(rawManifest))}, nil
}

// fromClientStore reads the image with manifest dgst from a content store
// the client's session offers (a --cache-from type=local folder) into the
// engine's store, unnamed, and returns its ID.
func (s *Server) fromClientStore(ctx context.Context, caller session.Caller, storeID, dgst string) (string, error) {
	cs := sessioncontent.NewCallerStore(caller, storeID)
	read := func(d string) ([]byte, error) {
		info, err := cs.Info(ctx, digest.Digest(d))
		if err != nil {
			return nil, err
		}
		return content.ReadBlob(ctx, cs, ocispecs.Descriptor{Digest: info.Digest, Size: info.Size})
	}
	rawManifest, err := read(dgst)
	if err != nil {
		return "", fmt.Errorf("the cache's manifest: %w", err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(rawManifest))
	if err != nil {
		return "", fmt.Errorf("the cache's manifest: %w: %w", err, engine.ErrInvalidArgument)
	}
	rawConfig, err := read(m.Config.Digest.String())
	if err != nil {
		return "", fmt.Errorf("the cache's config: %w", err)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(rawConfig))
	if err != nil {
		return "", fmt.Errorf("the cache's config: %w: %w", err, engine.ErrInvalidArgument)
	}
	img := empty.Image
	for _, l := range m.Layers {
		desc := ocispecs.Descriptor{Digest: digest.Digest(l.Digest.String()), Size: l.Size}
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			ra, err := cs.ReaderAt(ctx, desc)
			if err != nil {
				return nil, err
			}
			return readCloser{content.NewReader(ra), ra}, nil
		}, tarball.WithMediaType(l.MediaType))
		if err != nil {
			return "", err
		}
		if img, err = mutate.AppendLayers(img, layer); err != nil {
			return "", err
		}
	}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return "", err
	}
	return s.b.Put(ctx, img)
}

type readCloser struct {
	io.Reader
	io.Closer
}

func bytesOpener(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}
