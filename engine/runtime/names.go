package runtime

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"regexp"
)

// validName is docker's rule for container names.
var validName = regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

func newID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

var (
	adjectives = []string{"brave", "calm", "clever", "eager", "gentle", "happy", "jolly", "keen", "lucid", "merry", "nimble", "proud", "quiet", "sharp", "steady", "swift", "tidy", "vivid", "witty", "zen"}
	nouns      = []string{"anchor", "buoy", "compass", "dock", "ferry", "harbor", "keel", "lantern", "mast", "mooring", "oar", "pier", "quay", "rudder", "sail", "schooner", "tide", "wharf", "yacht", "beacon"}
)

// randomName makes a docker-style "adjective_noun" name.
func randomName() string {
	a, _ := rand.Int(rand.Reader, big.NewInt(int64(len(adjectives))))
	n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(nouns))))
	return fmt.Sprintf("%s_%s", adjectives[a.Int64()], nouns[n.Int64()])
}
