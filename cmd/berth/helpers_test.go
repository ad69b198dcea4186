package main

import v1 "github.com/google/go-containerregistry/pkg/v1"

func configHistory(step string) v1.History { return v1.History{CreatedBy: step} }
