package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/northstar-pm/northstar"
)

// External identities (an OpenID Connect issuer and subject) are linked to
// users through the settings table, one row per identity under a name
// derived from both, so that linking needs no schema change of its own.
// Only these two functions know that; moving the links to a table of
// their own later changes nothing above the store.

// identitySetting names the settings row of an identity. Hashing keeps the
// name short and of one shape whatever the provider's subject looks like.
func identitySetting(issuer, subject string) string {
	sum := sha256.Sum256([]byte(issuer + "\x00" + subject))
	return "identity:" + hex.EncodeToString(sum[:])
}

// FindUserByIdentity returns the user linked to an external identity, or
// an ENOTFOUND error.
func (tx *Tx) FindUserByIdentity(ctx context.Context, issuer, subject string) (*northstar.User, error) {
	v, err := tx.Setting(ctx, identitySetting(issuer, subject), "")
	if err != nil {
		return nil, err
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if v == "" || err != nil {
		return nil, northstar.Errorf(northstar.ENOTFOUND, "No account is linked to this sign-in.")
	}
	return tx.FindUserByID(ctx, id)
}

// LinkIdentity links an external identity to a user, replacing any
// earlier link of that identity.
func (tx *Tx) LinkIdentity(ctx context.Context, issuer, subject string, userID int64) error {
	if err := tx.SetSetting(ctx, identitySetting(issuer, subject), strconv.FormatInt(userID, 10)); err != nil {
		return fmt.Errorf("link identity: %w", err)
	}
	return nil
}
