package main

import (
	"context"
	"flag"
	"log"
	"os"
	"slices"

	"github.com/berth-dev/berth/engine/rootless"
)

// runNamespaceInit is the rootless namespace's first process, when this
// berthd is one; it does not return then.
func runNamespaceInit() { rootless.RunInit() }

// becomeRootless makes an ordinary user's berthd a rootless engine: it
// starts berthd again inside a user namespace with the flags resolved as
// this user (its data and socket stay the user's), and serves as its
// parent until it ends. It returns true in the engine so started, false
// for root, and an error (with what to do) when the namespace cannot be
// made.
func becomeRootless(fs *flag.FlagSet, args []string, resolved map[string]string) (bool, error) {
	if rootless.Inside() {
		return true, nil
	}
	if os.Geteuid() == 0 {
		return false, nil
	}
	plan, err := rootless.Check()
	if err != nil {
		return false, err
	}
	plan.DelegateCgroup(context.Background())
	for _, w := range plan.Warnings {
		log.Print("warning: ", w)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	args = slices.Clone(args)
	for name, value := range resolved {
		if !set[name] {
			args = append(args, "--"+name+"="+value)
		}
	}
	return false, rootless.Reexec(plan, args)
}

func rootlessWarnings() []string { return rootless.Warnings() }
