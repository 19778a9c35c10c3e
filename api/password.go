package api

import (
	"crypto/sha512"
	"encoding/hex"
)

// passwordSalt is what Determined's clients put before a password they
// hash; the value is fixed by their protocol.
const passwordSalt = "GubPEmmotfiK9TMD6Zdw"

// PasswordHash is a password as Determined's clients send it with
// isHashed: the lowercase hex SHA-512 of the salt and the password. The
// empty password stays empty.
func PasswordHash(password string) string {
	if password == "" {
		return ""
	}
	sum := sha512.Sum512([]byte(passwordSalt + password))
	return hex.EncodeToString(sum[:])
}
