package app_test

import (
	"context"
	"fmt"

	"github.com/berth-dev/berth/app"
	"github.com/berth-dev/berth/engine/enginetest"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// A Core is the app without its window: the engine's roles, the state
// holders the panels draw, and a root context. app.Open reaches a real
// engine; NewCore takes any roles, here an engine in memory. The state
// holders follow the engine's events: a pull shows up in Images by
// itself.
func ExampleNewCore() {
	fake := enginetest.NewFake()
	img, _ := random.Image(1024, 1)
	fake.Publish("busybox:1.36", img)
	core := app.NewCore(context.Background(), app.Roles{Images: fake, Registry: fake, Archives: fake, Events: fake, Builder: fake, Containers: fake.Containers()}, app.DefaultSettings(), nil)
	defer core.Close()

	changed := make(chan struct{}, 8)
	core.Images.OnChange(func() { changed <- struct{}{} })
	core.Follow()
	<-changed // the first load

	if err := core.Images.Pull(core.Context(), "busybox:1.36", app.NewTransfer(nil)); err != nil {
		fmt.Println(app.Explain(err))
		return
	}
	for len(core.Images.Rows()) == 0 {
		<-changed
	}
	fmt.Println(core.Images.Rows()[0].Ref)
	id, err := core.Containers.Run(core.Context(), app.RunOptions{Image: "busybox:1.36", Name: "web", Ports: "8080:80"})
	if err != nil {
		fmt.Println(app.Explain(err))
		return
	}
	c, _ := core.Engine.Containers.Inspect(core.Context(), id)
	fmt.Println(c.Name, c.State.Status, app.URL(c))
	// Output:
	// busybox:1.36
	// web running http://localhost:8080/
}
