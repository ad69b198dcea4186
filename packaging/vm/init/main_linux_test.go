package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
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

// Host folders arrive percent-encoded; the VM's own folders are refused.
func TestParseShares(t *testing.T) {
	for _, tc := range []struct {
		cmdline string
		want    []share
	}{
		{"console=ttyS0 quiet", nil},
		{"quiet berth.shares=share0:%2FUsers%2Fjo,share1:%2FVolumes%2FMy%20Disk%2C%20old panic=-1",
			[]share{{"share0", "/Users/jo"}, {"share1", "/Volumes/My Disk, old"}}},
		{"berth.shares=share0:%2Fhome%2Fjo,share1:%2F,share2:%2Fusr%2Flocal,share3:relative,share4:%2Fvar%2Flib%2Fberth%2Fx,share5:%2Fhome%2F..%2Fetc",
			[]share{{"share0", "/home/jo"}}},
		{"berth.shares=share0:%2Fvar%2Ffolders,share1:%2Ftmp,share2:%2Ftmp%2Fsite", []share{{"share0", "/var/folders"}, {"share2", "/tmp/site"}}}, // the VM's /tmp stays its own,
	} {
		if got := parseShares(tc.cmdline); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got %v\nwant %v", tc.cmdline, got, tc.want)
		}
	}
}

// The clock steps to the RTC's only when they disagree by a whole
// second or more (the RTC counts seconds): after a host's sleep, not on
// rounding.
func TestClockStep(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 700_000_000, time.UTC)
	for _, tc := range []struct {
		rtc  time.Time
		want time.Duration
		ok   bool
	}{
		{now.Truncate(time.Second), 0, false},
		{now.Truncate(time.Second).Add(time.Second), 0, false},
		{now.Add(2 * time.Hour).Truncate(time.Second), 2*time.Hour - 700*time.Millisecond, true},
		{now.Add(-5 * time.Second).Truncate(time.Second), -5*time.Second - 700*time.Millisecond, true},
	} {
		if got, ok := clockStep(now, tc.rtc); got != tc.want || ok != tc.ok {
			t.Errorf("rtc %v: %v %v, want %v %v", tc.rtc, got, ok, tc.want, tc.ok)
		}
	}
}
