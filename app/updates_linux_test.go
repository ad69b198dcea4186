package app_test

import (
	"context"
	"slices"
	"testing"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/app/apptest"
	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/engine/enginetest"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// A tag that moved on in its registry shows as an update; pulling it
// recreates the container that ran the old image, keeping what the person
// set and taking what the image sets from the new one.
func TestImageUpdateIsFoundPulledAndRecreated(t *testing.T) {
	e := apptest.Start(t)
	ctx := context.Background()
	base, err := enginetest.BusyboxImage()
	if err != nil {
		t.Fatal(err)
	}
	withEnv := func(env ...string) v1.Image {
		cf, _ := base.ConfigFile()
		cfg := cf.Config.DeepCopy()
		cfg.Env = append(cfg.Env, env...)
		img, err := mutate.Config(base, *cfg)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	e.Registry.Push(t, withEnv("VERSION=1"), "me/web:stable")
	ref := e.Registry.Host + "/me/web:stable"
	if err := e.Core.Images.Pull(ctx, ref, app.NewTransfer(nil)); err != nil {
		t.Fatal(err)
	}
	cc := e.Core.Engine.Containers
	id, err := cc.Create(ctx, engine.ContainerSpec{Name: "web", Image: ref, Cmd: []string{"sleep", "1000"}, Env: []string{"MODE=dev"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	defer cc.Remove(ctx, "web", true, false)
	update := func() bool {
		t.Helper()
		if err := e.Core.Images.CheckUpdates(ctx); err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(e.Core.Images.Rows(), func(r app.ImageRow) bool { return r.Ref == ref })
		return i >= 0 && e.Core.Images.Rows()[i].Update
	}
	if update() {
		t.Fatal("an image the registry still names is shown as updated")
	}

	e.Registry.Push(t, withEnv("VERSION=2"), "me/web:stable")
	if !update() {
		t.Fatal("the tag moved on in the registry, and no update shows")
	}
	recreated, err := e.Core.UpdateImage(ctx, ref, app.NewTransfer(nil))
	if err != nil || !slices.Equal(recreated, []string{"web"}) {
		t.Fatalf("UpdateImage: %v, %v", recreated, err)
	}
	ct, err := cc.Inspect(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	img, _ := e.Core.Engine.Images.Inspect(ctx, ref)
	if ct.ImageID != img.ID || ct.State.Status != engine.StatusRunning {
		t.Errorf("the recreated container: image %s (want %s), %s", ct.ImageID, img.ID, ct.State.Status)
	}
	if !slices.Contains(ct.Spec.Env, "MODE=dev") || !slices.Contains(ct.Spec.Env, "VERSION=2") || slices.Contains(ct.Spec.Env, "VERSION=1") {
		t.Errorf("the recreated container's environment: %v", ct.Spec.Env)
	}
	if !slices.Equal(ct.Spec.Cmd, []string{"sleep", "1000"}) {
		t.Errorf("the recreated container's command: %v", ct.Spec.Cmd)
	}
	if update() {
		t.Error("after the update the image still shows one")
	}
}
