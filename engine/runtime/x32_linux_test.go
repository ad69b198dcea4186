package runtime

import (
	"slices"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

// The default filter names only the architectures this kernel runs: x32
// goes where the kernel refuses x32 calls, the native ABI and 32-bit x86
// stay.
func TestFilterLeavesOutDeadArchitectures(t *testing.T) {
	all := []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}
	got := withoutDeadArchitectures(all)
	want := all
	if !kernelRunsX32() {
		want = []specs.Arch{specs.ArchX86_64, specs.ArchX86}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("kernel runs x32: %v; the filter's architectures %v, want %v", kernelRunsX32(), got, want)
	}
	if len(all) != 3 {
		t.Fatal("the profile's own list was changed")
	}
	arm := []specs.Arch{specs.ArchAARCH64, specs.ArchARM}
	if got := withoutDeadArchitectures(arm); !slices.Equal(got, arm) {
		t.Fatalf("an arm64 filter lost %v", got)
	}
}
