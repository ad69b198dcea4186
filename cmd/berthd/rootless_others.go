//go:build !linux

package main

import "flag"

func runNamespaceInit() {}

// becomeRootless: only Linux runs a rootless engine (elsewhere the engine
// runs in Berth's VM).
func becomeRootless(*flag.FlagSet, []string, map[string]string) (bool, error) { return false, nil }

func rootlessWarnings() []string { return nil }
