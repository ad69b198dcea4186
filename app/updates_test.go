package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine/enginetest"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// The periodic check finds a tag that moved on, without a click.
func TestCheckUpdatesEvery(t *testing.T) {
	fake := enginetest.NewFake()
	images := app.NewImages(fake, fake)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	img, _ := random.Image(100, 1)
	fake.Publish("example.com/me/web:1", img)
	if err := images.Pull(ctx, "example.com/me/web:1", app.NewTransfer(nil)); err != nil {
		t.Fatal(err)
	}
	newer, _ := random.Image(100, 1)
	fake.Publish("example.com/me/web:1", newer)
	go images.CheckUpdatesEvery(ctx, time.Millisecond, time.Hour)
	deadline := time.Now().Add(5 * time.Second)
	for {
		rows := images.Rows()
		if len(rows) == 1 && rows[0].Update {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no update found: %+v", rows)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
