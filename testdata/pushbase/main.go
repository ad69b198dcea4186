// Command pushbase builds the small runnable base image the tests use —
// Debian's static busybox with its applet links — and pushes it to a
// registry, for trying Berth by hand without Docker Hub:
//
//	go run ./testdata/pushbase -to 127.0.0.1:5000/busybox:latest
//
// It lives under testdata/ so it is not part of the module's packages.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/berth-dev/berth/engine/enginetest"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func main() {
	to := flag.String("to", "127.0.0.1:5000/busybox:latest", "where to push the image")
	flag.Parse()
	if err := push(*to); err != nil {
		fmt.Fprintln(os.Stderr, "pushbase:", err)
		os.Exit(1)
	}
}

func push(to string) error {
	ref, err := name.ParseReference(to)
	if err != nil {
		return err
	}
	img, err := enginetest.BusyboxImage()
	if err != nil {
		return err
	}
	if err := remote.Write(ref, img); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	d, _ := img.Digest()
	fmt.Printf("pushed %s@%s\n", ref, d)
	return nil
}
