package main

import (
	"os"
	"path/filepath"
	"testing"
)

// A disk is formatted only when it is blank: anything written in its
// first megabyte (a file system that will not mount) is checked instead.
func TestIsBlank(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write int64 // offset of a non-zero byte, -1 for none
		blank bool
	}{
		{"new sparse disk", -1, true},
		{"ext4 superblock magic", 1080, false},
		{"last byte of the first megabyte", 1<<20 - 1, false},
		{"data past the first megabyte only", 1 << 20, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "disk")
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			f.Truncate(4 << 20)
			if tc.write >= 0 {
				f.WriteAt([]byte{0x53}, tc.write)
			}
			f.Close()
			blank, err := isBlank(p)
			if err != nil || blank != tc.blank {
				t.Fatalf("isBlank = %v, %v; want %v", blank, err, tc.blank)
			}
		})
	}
	if _, err := isBlank(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("a missing disk is not blank")
	}
}
