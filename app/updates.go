package app

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/berth-dev/berth/engine"
	"github.com/hashicorp/go-multierror"
)

// CheckUpdates asks the registries, without pulling, what each tag the
// gallery shows names now, for the images that came from a registry (a
// pulled or pushed image remembers the manifest it was, as a repo
// digest); a row whose tag has moved on says so (ImageRow.Update). An
// image built here and never pushed has nothing to compare. Registries
// that do not answer leave their rows as they were; the error names them.
func (s *Images) CheckUpdates(ctx context.Context) error {
	s.mu.Lock()
	all := slices.Clone(s.all)
	s.mu.Unlock()
	var errs *multierror.Error
	found := map[string]string{}
	for _, img := range all {
		for _, tag := range img.RepoTags {
			local := repoDigest(img.RepoDigests, tag)
			if local == "" {
				continue
			}
			d, err := s.reg.Distribution(ctx, tag, credentialsFor(tag))
			if err != nil {
				errs = multierror.Append(errs, err)
				continue
			}
			if d.Descriptor.Digest != "" && d.Descriptor.Digest != local {
				found[tag] = d.Descriptor.Digest
			}
		}
	}
	s.mu.Lock()
	s.updates = found
	s.mu.Unlock()
	s.changed()
	return errs.ErrorOrNil()
}

// CheckUpdatesEvery checks for updates after first and then every
// interval, until ctx ends. A registry that does not answer (offline) is
// asked again next time; the gallery's "Check for updates" says why.
func (s *Images) CheckUpdatesEvery(ctx context.Context, first, interval time.Duration) {
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.CheckUpdates(ctx)
		t.Reset(interval)
	}
}

// repoDigest is the manifest digest an image was pulled or pushed as under
// tag's repository ("python@sha256:…" for "python:3.11-slim"), or "".
func repoDigest(digests []string, tag string) string {
	repo, _ := splitRepoTag(tag)
	for _, rd := range digests {
		if r, d, ok := strings.Cut(rd, "@"); ok && r == repo {
			return d
		}
	}
	return ""
}

// UpdateImage pulls ref's newer image and recreates the containers that
// ran the old one under that name: the same name and settings on the new
// image, started again if they were running; what the old image set
// (command, environment, working folder, user) comes from the new one, as
// a container made from it would have it. A container's writable layer
// is not carried over, as with docker compose's recreate. It returns the
// containers recreated; one that cannot be is named in the error and
// left as it was, while the others go on.
func (c *Core) UpdateImage(ctx context.Context, ref string, p *Transfer) ([]string, error) {
	old, err := c.Engine.Images.Inspect(ctx, ref)
	if err != nil {
		return nil, err
	}
	if err := c.Images.Pull(ctx, ref, p); err != nil {
		return nil, err
	}
	fresh, err := c.Engine.Images.Inspect(ctx, ref)
	if err != nil {
		return nil, err
	}
	if fresh.ID == old.ID {
		return nil, nil
	}
	list, err := c.Engine.Containers.List(ctx, true)
	if err != nil {
		return nil, err
	}
	var recreated []string
	var errs *multierror.Error
	for _, ct := range list {
		if ct.ImageID != old.ID || ct.Image != ref && !sameRef(ct.Image, ref) {
			continue
		}
		if err := c.recreate(ctx, ct.ID, ref, old.Config); err != nil {
			errs = multierror.Append(errs, fmt.Errorf("recreate %s: %w", ct.Name, err))
			continue
		}
		recreated = append(recreated, ct.Name)
	}
	c.Images.Refresh(ctx)
	return recreated, errs.ErrorOrNil()
}

// sameRef says whether two names are one ("busybox" and "busybox:latest").
func sameRef(a, b string) bool {
	ra, ta := splitRepoTag(a)
	rb, tb := splitRepoTag(b)
	return ra == rb && ta == tb
}

// recreate replaces the container id with one of the same name and the
// settings it was given, on ref's image as it is now.
func (c *Core) recreate(ctx context.Context, id, ref string, oldImage engine.ImageConfig) error {
	ct, err := c.Engine.Containers.Inspect(ctx, id)
	if err != nil {
		return err
	}
	spec := ownSettings(ct.Spec, oldImage)
	spec.Name, spec.Image = ct.Name, ref
	running := ct.State.Status == engine.StatusRunning || ct.State.Status == engine.StatusRestarting
	if err := c.Engine.Containers.Remove(ctx, id, true, false); err != nil {
		return err
	}
	newID, err := c.Engine.Containers.Create(ctx, spec)
	if err != nil {
		return err
	}
	if running {
		return c.Engine.Containers.Start(ctx, newID)
	}
	return nil
}

// ownSettings is what a container was given beyond its image: an inspect
// shows the image's command, environment, working folder and user merged
// in, and a recreated container must take those from the new image.
func ownSettings(spec engine.ContainerSpec, image engine.ImageConfig) engine.ContainerSpec {
	if slices.Equal(spec.Cmd, image.Cmd) {
		spec.Cmd = nil
	}
	if slices.Equal(spec.Entrypoint, image.Entrypoint) {
		spec.Entrypoint = nil
	}
	if spec.WorkingDir == image.WorkingDir {
		spec.WorkingDir = ""
	}
	if spec.User == image.User {
		spec.User = ""
	}
	var env []string
	for _, e := range spec.Env {
		if !slices.Contains(image.Env, e) {
			env = append(env, e)
		}
	}
	spec.Env = env
	labels := map[string]string{}
	for k, v := range spec.Labels {
		if image.Labels[k] != v {
			labels[k] = v
		}
	}
	spec.Labels = nil
	if len(labels) > 0 {
		spec.Labels = maps.Clone(labels)
	}
	return spec
}
