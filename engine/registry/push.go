package registry

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/reference"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
)

// Push uploads the image named ref to ref's registry and returns the
// manifest digest. Layers the registry already has are skipped.
func (r *Registry) Push(ctx context.Context, refStr string, auth *engine.AuthConfig, progress engine.ProgressFunc) (string, error) {
	ref, err := r.parse(refStr)
	if err != nil {
		return "", fmt.Errorf("push: %w", err)
	}
	familiar := reference.Familiar(reference.Canonical(ref))
	id, _, err := r.store.Resolve(refStr)
	if err != nil {
		return "", fmt.Errorf("push %s: %w", familiar, err)
	}
	img, err := r.store.Image(id)
	if err != nil {
		return "", fmt.Errorf("push %s: %w", familiar, err)
	}
	repo := ref.Context()
	progress.Report(engine.Progress{Status: engine.ProgressResolving, Message: "The push refers to repository [" + familiarRepo(ref) + "]"})
	opts := r.remoteOptions(ctx, repo, auth)
	client, err := r.blobClient(ctx, repo, auth)
	if err != nil {
		return "", fmt.Errorf("push %s: %w", familiar, classify(err))
	}
	if err := r.pushLayers(ctx, client, repo, img, opts, progress); err != nil {
		return "", fmt.Errorf("push %s: %w", familiar, err)
	}
	// Config and manifest; the layers are there now, so only HEADs for them.
	if err := remote.Write(ref, img, opts...); err != nil {
		return "", fmt.Errorf("push %s: %w", familiar, classify(err))
	}
	digest, err := img.Digest()
	if err != nil {
		return "", err
	}
	raw, _ := img.RawManifest()
	progress.Report(engine.Progress{Status: engine.ProgressDone, Message: fmt.Sprintf("%s: digest: %s size: %d", ref.Identifier(), digest, len(raw))})
	if err := r.store.AddRepoDigest(id, reference.Canonical(repo.Digest(digest.String()))); err != nil {
		return "", fmt.Errorf("push %s: record digest: %w", familiar, err)
	}
	r.publish("push", familiar, map[string]string{"name": familiar})
	return digest.String(), nil
}

// pushLayers uploads an image's layers the registry lacks, several at
// once.
func (r *Registry) pushLayers(ctx context.Context, client *http.Client, repo name.Repository, img v1.Image, opts []remote.Option, progress engine.ProgressFunc) error {
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.opts.jobs)
	for _, layer := range layers {
		g.Go(func() error { return r.pushLayer(gctx, client, repo, layer, opts, progress) })
	}
	if err := g.Wait(); err != nil {
		return classify(err)
	}
	return nil
}

func (r *Registry) pushLayer(ctx context.Context, client *http.Client, repo name.Repository, layer v1.Layer, opts []remote.Option, progress engine.ProgressFunc) error {
	digest, err := layer.Digest()
	if err != nil {
		return err
	}
	size, _ := layer.Size()
	id := digest.Hex[:12]
	progress.Report(engine.Progress{ID: id, Status: engine.ProgressWaiting, Total: size})
	exists, err := blobExists(ctx, client, repo, digest)
	if err != nil {
		return err
	}
	if exists {
		progress.Report(engine.Progress{ID: id, Status: engine.ProgressAlreadyExists})
		return nil
	}
	updates := make(chan v1.Update, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for u := range updates {
			progress.Report(engine.Progress{ID: id, Status: engine.ProgressPushing, Current: u.Complete, Total: size})
		}
	}()
	err = remote.WriteLayer(repo, layer, append(opts, remote.WithProgress(updates))...)
	<-done
	if err != nil {
		return fmt.Errorf("layer %s: %w", id, err)
	}
	progress.Report(engine.Progress{ID: id, Status: engine.ProgressPushed, Current: size, Total: size})
	return nil
}

// blobClient is an HTTP client authorised to push to repo.
func (r *Registry) blobClient(ctx context.Context, repo name.Repository, auth *engine.AuthConfig) (*http.Client, error) {
	a := authenticator(auth)
	if a == nil {
		var err error
		if a, err = r.opts.keychain.Resolve(repo); err != nil {
			a = authn.Anonymous
		}
	}
	t, err := transport.NewWithContext(ctx, repo.Registry, a, r.opts.transport, []string{repo.Scope(transport.PushScope)})
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: t}, nil
}

func blobExists(ctx context.Context, client *http.Client, repo name.Repository, digest v1.Hash) (bool, error) {
	u := url.URL{Scheme: repo.Scheme(), Host: repo.RegistryStr(), Path: fmt.Sprintf("/v2/%s/blobs/%s", repo.RepositoryStr(), digest)}
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u.String(), nil)
	if err != nil {
		return false, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, nil
}

// PushIndex uploads stored images as one multi-platform image named ref:
// each image (by ID, keyed by its platform, "linux/arm64") is pushed by
// digest, then an OCI index of them under ref's tag. It returns the
// index's digest.
func (r *Registry) PushIndex(ctx context.Context, refStr string, images map[string]string, auth *engine.AuthConfig, progress engine.ProgressFunc) (string, error) {
	ref, err := r.parse(refStr)
	if err != nil {
		return "", fmt.Errorf("push: %w", err)
	}
	familiar := reference.Familiar(reference.Canonical(ref))
	repo := ref.Context()
	opts := r.remoteOptions(ctx, repo, auth)
	client, err := r.blobClient(ctx, repo, auth)
	if err != nil {
		return "", fmt.Errorf("push %s: %w", familiar, classify(err))
	}
	var adds []mutate.IndexAddendum
	for _, platform := range slices.Sorted(maps.Keys(images)) {
		p, err := v1.ParsePlatform(platform)
		if err != nil {
			return "", fmt.Errorf("push %s: platform %q: %w", familiar, platform, err)
		}
		img, err := r.store.Image(images[platform])
		if err != nil {
			return "", fmt.Errorf("push %s for %s: %w", familiar, platform, err)
		}
		if err := r.pushLayers(ctx, client, repo, img, opts, progress); err != nil {
			return "", fmt.Errorf("push %s for %s: %w", familiar, platform, err)
		}
		digest, err := img.Digest()
		if err != nil {
			return "", err
		}
		if err := remote.Write(repo.Digest(digest.String()), img, opts...); err != nil {
			return "", fmt.Errorf("push %s for %s: %w", familiar, platform, classify(err))
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p}})
	}
	idx := mutate.IndexMediaType(mutate.AppendManifests(empty.Index, adds...), types.OCIImageIndex)
	if err := remote.WriteIndex(ref, idx, opts...); err != nil {
		return "", fmt.Errorf("push %s: the index: %w", familiar, classify(err))
	}
	digest, err := idx.Digest()
	if err != nil {
		return "", err
	}
	progress.Report(engine.Progress{Status: engine.ProgressDone, Message: fmt.Sprintf("%s: digest: %s (%d platforms)", ref.Identifier(), digest, len(images))})
	r.publish("push", familiar, map[string]string{"name": familiar})
	return digest.String(), nil
}
