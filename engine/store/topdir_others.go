//go:build !linux

package store

func spreadSubdirs(dir string) {}
