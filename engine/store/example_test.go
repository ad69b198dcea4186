package store_test

import (
	"context"
	"fmt"
	"os"

	"github.com/berth-dev/berth/engine/store"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

// A store keeps images under their names: Put verifies and unpacks every
// layer and names the image in one step, Tag adds a name, Remove takes
// one away and deletes the image with its last name.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "berth-store-")
	defer os.RemoveAll(dir)
	s, err := store.Open(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	ctx := context.Background()
	img, _ := random.Image(1024, 2)
	if _, err := s.Put(ctx, img, store.PutOptions{Names: []string{"example/app:v1"}}); err != nil {
		fmt.Println(err)
		return
	}
	s.Tag(ctx, "example/app:v1", "localhost:5000/example/app:v1")
	list, _ := s.List(ctx)
	fmt.Println(len(list), "image named", list[0].RepoTags)
	s.Remove(ctx, "example/app:v1", false)
	s.Remove(ctx, "localhost:5000/example/app:v1", false)
	list, _ = s.List(ctx)
	fmt.Println(len(list), "images")
	// Output:
	// 1 image named [example/app:v1 localhost:5000/example/app:v1]
	// 0 images
}
