package app

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: the OWASP ASVS floor (t=2, m=19 MiB, p=1), about
// 21 ms a hash on the reference machine.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// passwordHasher hashes and verifies passwords with argon2id. Each hash
// takes 19 MiB, so the number running at once is capped: a burst of 100
// logins queues instead of taking gigabytes.
type passwordHasher struct {
	slots     chan struct{}
	dummyOnce sync.Once
	dummyHash string
}

func newPasswordHasher() *passwordHasher {
	return &passwordHasher{slots: make(chan struct{}, max(2, runtime.NumCPU()))}
}

// dummy returns a hash to verify against when the account does not exist,
// so that a wrong email takes as long as a wrong password. It is made on
// first use, not at start-up.
func (h *passwordHasher) dummy() string {
	h.dummyOnce.Do(func() { h.dummyHash = h.hash("not a real password, only for timing") })
	return h.dummyHash
}

func (h *passwordHasher) derive(password string, salt []byte, t, m uint32, p uint8) []byte {
	h.slots <- struct{}{}
	defer func() { <-h.slots }()
	return argon2.IDKey([]byte(password), salt, t, m, p, argonKeyLen)
}

// hash returns the PHC string of the password's argon2id hash.
func (h *passwordHasher) hash(password string) string {
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	key := h.derive(password, salt, argonTime, argonMemory, argonThreads)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// verify reports whether password matches the PHC string encoded.
func (h *passwordHasher) verify(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	// Refuse parameters that would let a tampered hash exhaust memory.
	if m > 256*1024 || t > 10 || p == 0 || p > 8 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := h.derive(password, salt, t, m, p)
	return subtle.ConstantTimeCompare(got, want) == 1
}
