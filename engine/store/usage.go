package store

import (
	"context"

	"github.com/berth-dev/berth/engine"
)

// ImageUsage is every image with the bytes of its layers other images
// share, and the bytes of all layers, each counted once.
func (s *Store) ImageUsage(ctx context.Context) (layersSize int64, images []engine.ImageUsage, err error) {
	list, err := s.List(ctx)
	if err != nil {
		return 0, nil, err
	}
	users := map[string]int{}         // layer → images using it
	sizes := map[string]int64{}       // layer → its unpacked bytes
	layersOf := map[string][]string{} // image → its layers
	for _, img := range list {
		_, layers, err := s.ConfigFile(img.ID)
		if err != nil {
			return 0, nil, err
		}
		seen := map[string]bool{}
		for _, l := range layers {
			if seen[l.DiffID] {
				continue
			}
			seen[l.DiffID] = true
			users[l.DiffID]++
			sizes[l.DiffID] = l.Unpacked
			layersOf[img.ID] = append(layersOf[img.ID], l.DiffID)
		}
	}
	for _, size := range sizes {
		layersSize += size
	}
	for _, img := range list {
		u := engine.ImageUsage{ImageSummary: img}
		for _, l := range layersOf[img.ID] {
			if users[l] > 1 {
				u.SharedSize += sizes[l]
			}
		}
		images = append(images, u)
	}
	return layersSize, images, nil
}
