package main

import (
	"testing"

	"github.com/berth-dev/berth/app/apptest"
)

// The terminal commands' tests start a real berthd, as the app does.
func TestMain(m *testing.M) { apptest.Main(m) }
